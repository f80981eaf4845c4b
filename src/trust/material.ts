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

export function loadMaterial(files: PolicyFiles, key: string): PolicyMaterial {
  const read = (sub: string, path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([`${key}.${sub}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
    }
  };
  const parse = <T>(sub: string, path: string, fn: (text: string) => T): T => {
    const text = read(sub, path);
    try {
      return fn(text);
    } catch (err) {
      throw new ConfigError([`${key}.${sub}: ${path}: ${(err as Error).message}`]);
    }
  };
  const material: PolicyMaterial = {
    keys: files.keys.map((path) => ({ name: path, key: parse('keys', path, publicKeyFromPem) })),
  };
  if (files.certificates) {
    const roots = files.certificates.roots.flatMap((path) => parse('certificates.roots', path, certificatesOrThrow));
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
  const key = createPublicKey(text);
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
