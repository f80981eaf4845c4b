// The trust material of one policy, read once from the files its configuration names: cosign
// public keys, certificate roots and accepted identities, Rekor's key, a Sigstore trusted root
// and a Notation trust store. A file that cannot be read or parsed stops start with the key named.
import { createHash, createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toTrustMaterial } from '@sigstore/verify';
import { ConfigError } from '../config/load.js';
import { certificatesFromPem } from './x509-chain.js';

export interface IdentityRule {
  subject: string;
  issuer?: string | undefined;
}

export interface PolicyMaterial {
  keys: { name: string; key: KeyObject }[];
  certificates?: { roots: X509Certificate[]; identities: IdentityRule[] };
  rekorKey?: KeyObject;
  sigstore?: { verifier: Verifier; identities: IdentityRule[] };
  /**
   * Identities are `*` or `x509.subject: DN`, matched as Notation matches them (notation-policy.ts).
   * `expiry: 'log'` accepts an expired signature (a trustpolicy.json level that only logs expiry).
   */
  notation?: { roots: X509Certificate[]; identities: string[]; expiry?: 'enforce' | 'log' };
}

export interface PolicyFiles {
  keys: string[];
  certificates?: { roots: string[]; identities: IdentityRule[] } | undefined;
  rekorkey?: string | undefined;
  sigstore?: { trustedroot: string; identities: IdentityRule[]; tlogthreshold: number } | undefined;
  notation?: { truststore: string; identities: string[] } | undefined;
}

/** How a policy's material is found: files named in config.yml, or the text itself (the admin API's). */
interface MaterialReader {
  /** The text `ref` stands for (a file's content, or `ref` itself). */
  read(sub: string, ref: string): string;
  /** How a refusal and a verdict name `ref`. */
  label(sub: string, ref: string): string;
}

const fromFiles = (key: string): MaterialReader => ({
  read(sub, path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([`${key}.${sub}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
    }
  },
  label: (_sub, path) => path,
});

export function loadMaterial(files: PolicyFiles, key: string): PolicyMaterial {
  return loadWith(files, key, fromFiles(key));
}

/** The material of a policy stored through the admin API: PEM text and a trusted_root.json given inline. */
export interface InlineMaterial {
  keys: string[];
  certificates?: { roots: string[]; identities: IdentityRule[] } | undefined;
  rekorkey?: string | undefined;
  sigstore?: { trustedroot: object; identities: IdentityRule[]; tlogthreshold: number } | undefined;
  notation?: { roots: string[]; identities: string[] } | undefined;
}

/**
 * Material given inline; a refusal names the key and its index (`policy.keys[1]: ...`), and a
 * verdict names a key by the SHA-256 of its SubjectPublicKeyInfo, as cosign's bundles hint it.
 */
export function loadInlineMaterial(m: InlineMaterial, key: string): PolicyMaterial {
  const at = (sub: string, ref: string) => {
    const list = sub === 'keys' ? m.keys : sub === 'certificates.roots' ? m.certificates?.roots : sub === 'notation.roots' ? m.notation?.roots : undefined;
    const i = list?.indexOf(ref) ?? -1;
    return i >= 0 ? `[${i}]` : '';
  };
  const reader: MaterialReader = {
    read: (_sub, text) => text,
    label(sub, text) {
      if (sub === 'keys' || sub === 'rekorkey') {
        try {
          return `sha256:${createHash('sha256').update(createPublicKey(text).export({ type: 'spki', format: 'der' })).digest('hex')}`;
        } catch {
          // Parsing fails again, with the reason, where the label is used.
        }
      }
      return `${sub}${at(sub, text)}`;
    },
  };
  const files: PolicyFiles = {
    keys: m.keys,
    ...(m.certificates ? { certificates: m.certificates } : {}),
    ...(m.rekorkey ? { rekorkey: m.rekorkey } : {}),
    ...(m.sigstore ? { sigstore: { ...m.sigstore, trustedroot: JSON.stringify(m.sigstore.trustedroot) } } : {}),
  };
  const material = loadWith(files, key, reader, (sub, ref) => `${key}.${sub}${at(sub, ref)}`);
  if (m.notation) {
    const roots = m.notation.roots.flatMap((pem, i) => {
      try {
        return certificatesOrThrow(pem);
      } catch (err) {
        throw new ConfigError([`${key}.notation.roots[${i}]: ${(err as Error).message}`]);
      }
    });
    material.notation = { roots, identities: m.notation.identities };
  }
  return material;
}

function loadWith(files: PolicyFiles, key: string, reader: MaterialReader, where: (sub: string, ref: string) => string = (sub, ref) => `${key}.${sub}: ${ref}`): PolicyMaterial {
  const parse = <T>(sub: string, ref: string, fn: (text: string) => T): T => {
    const text = reader.read(sub, ref);
    try {
      return fn(text);
    } catch (err) {
      throw new ConfigError([`${where(sub, ref)}: ${(err as Error).message}`]);
    }
  };
  const material: PolicyMaterial = {
    keys: files.keys.map((ref) => ({ name: reader.label('keys', ref), key: parse('keys', ref, publicKeyFromPem) })),
  };
  if (files.certificates) {
    const roots = files.certificates.roots.flatMap((ref) => parse('certificates.roots', ref, certificatesOrThrow));
    material.certificates = { roots, identities: files.certificates.identities };
  }
  if (files.rekorkey) material.rekorKey = parse('rekorkey', files.rekorkey, publicKeyFromPem);
  if (files.sigstore) {
    const s = files.sigstore;
    const trust = parse('sigstore.trustedroot', s.trustedroot, (text) => toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(text)), keyFinder(material.keys)));
    // SCTs are a public-good-instance guarantee; an administrator's own root may have no CT log.
    const verifier = new Verifier(trust, { tlogThreshold: s.tlogthreshold, ctlogThreshold: 0 });
    material.sigstore = { verifier, identities: s.identities };
  }
  if (files.notation) {
    const dir = files.notation.truststore;
    const roots = pemFiles(dir, `${key}.notation.truststore`).flatMap((path) => parse('notation.truststore', path, certificatesOrThrow));
    if (roots.length === 0) throw new ConfigError([`${key}.notation.truststore: ${dir} holds no certificate`]);
    material.notation = { roots, identities: files.notation.identities };
  }
  return material;
}

/** Bundles signed with a key name it by a hint: the policy's key of that SHA-256 (base64 or hex) or file name. */
function keyFinder(keys: PolicyMaterial['keys']) {
  return (hint: string) => {
    const found = keys.find((k) => {
      const sum = createHash('sha256').update(k.key.export({ type: 'spki', format: 'der' })).digest();
      return hint === sum.toString('base64') || hint === sum.toString('hex') || hint === k.name;
    });
    if (!found) throw new Error(`no key of the policy has the hint "${hint}"`);
    return { publicKey: found.key, validFor: () => true };
  };
}

function publicKeyFromPem(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch {
    throw new Error(text.includes('-----BEGIN') ? 'not a public key Node can read (PEM SubjectPublicKeyInfo, or a certificate)' : 'not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`a ${key.asymmetricKeyType} key; cosign keys are ECDSA, RSA or Ed25519`);
  }
  return key;
}

function certificatesOrThrow(text: string): X509Certificate[] {
  const certs = certificatesFromPem(text);
  if (certs.length === 0) throw new Error('no PEM certificate in it');
  return certs;
}

/** The files of a trust store directory, recursively (Notation keeps `x509/ca/<name>/*.pem`). */
function pemFiles(dir: string, key: string, depth = 0): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ConfigError([`${key}: cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return names.sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return depth < 4 ? pemFiles(path, key, depth + 1) : [];
    return ['.pem', '.crt', '.cer'].some((ext) => name.endsWith(ext)) ? [path] : [];
  });
}
