// Keys and certificates for the trust tests, made with the openssl CLI: cosign key pairs of
// each kind cosign accepts, a Fulcio-like certificate authority (root, intermediate, and a
// short-lived signing certificate naming an e-mail identity and an OIDC issuer in Fulcio's
// extensions), a Rekor-like log key, and a Notation CA with a signing certificate.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun } from '../../e2e/support/run.js';

export interface Pki {
  dir: string;
  /** cosign key pairs (PEM files): ecdsa P-256, P-384, RSA 2048, Ed25519. */
  keys: Record<'p256' | 'p384' | 'rsa' | 'ed25519', { key: string; pub: string }>;
  /** An unrelated key, for signatures the policy must refuse. */
  stranger: { key: string; pub: string };
  fulcio: { root: string; intermediate: string; leafKey: string; leafCert: string; otherRootDir: string; otherRoot: string; otherLeafKey: string; otherLeafCert: string };
  rekor: { key: string; pub: string };
  notation: { root: string; leafKey: string; leafCert: string; subject: string; storeDir: string };
  identity: { subject: string; issuer: string };
}

const EC = (curve: string) => ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes'];

export async function makePki(dir: string): Promise<Pki> {
  const f = (name: string) => join(dir, name);
  const pair = async (name: string, genArgs: string[]) => {
    await mustRun('openssl', ['genpkey', ...genArgs, '-out', f(`${name}.key`)]);
    await mustRun('openssl', ['pkey', '-in', f(`${name}.key`), '-pubout', '-out', f(`${name}.pub`)]);
    return { key: f(`${name}.key`), pub: f(`${name}.pub`) };
  };
  const [p256, p384, rsa, ed25519, stranger, rekor] = await Promise.all([
    pair('p256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    pair('p384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']),
    pair('rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']),
    pair('ed25519', ['-algorithm', 'ED25519']),
    pair('stranger', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    pair('rekor', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
  ]);
  const identity = { subject: 'signer@example.com', issuer: 'https://accounts.example.com' };
  const ca = async (name: string, subject: string) => {
    await mustRun('openssl', ['req', '-x509', ...EC('prime256v1'), '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-days', '30',
      '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return f(`${name}.crt`);
  };
  const issue = async (name: string, issuer: string, subject: string, ext: string[], days = '10') => {
    await mustRun('openssl', ['req', ...EC('prime256v1'), '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subject]);
    await writeFile(f(`${name}.ext`), `${ext.join('\n')}\n`);
    await mustRun('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${issuer}.crt`), '-CAkey', f(`${issuer}.key`),
      '-CAcreateserial', '-out', f(`${name}.crt`), '-days', days, '-extfile', f(`${name}.ext`)]);
    return { key: f(`${name}.key`), cert: f(`${name}.crt`) };
  };
  const root = await ca('fulcio-root', '/O=sigstore.dev/CN=sigstore test root');
  const intermediate = await issue('fulcio-intermediate', 'fulcio-root', '/O=sigstore.dev/CN=sigstore-intermediate',
    ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign']);
  // Fulcio's issuer extension (1.3.6.1.4.1.57264.1.1) holds the issuer URL's raw bytes.
  const issuerHex = Buffer.from(identity.issuer).toString('hex').toUpperCase();
  const leaf = await issue('fulcio-leaf', 'fulcio-intermediate', '/O=sigstore.dev', [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning',
    `subjectAltName=email:${identity.subject}`, `1.3.6.1.4.1.57264.1.1=DER:${issuerHex}`,
  ], '1');
  const otherRoot = await ca('other-root', '/CN=some other root');
  const otherLeaf = await issue('other-leaf', 'other-root', '/O=elsewhere', [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', `subjectAltName=email:${identity.subject}`,
  ], '1');
  const notationRoot = await ca('notation-root', '/C=US/ST=WA/L=Seattle/O=Notary/CN=notation test root');
  const notationSubject = 'C=US, ST=WA, L=Seattle, O=wabbit-networks.io, CN=wabbit-networks.io';
  const notationLeaf = await issue('notation-leaf', 'notation-root', '/C=US/ST=WA/L=Seattle/O=wabbit-networks.io/CN=wabbit-networks.io',
    ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning']);
  // Notation's trust store layout: x509/ca/<store name>/<cert>.
  const storeDir = f('truststore');
  await mustRun('mkdir', ['-p', join(storeDir, 'x509', 'ca', 'wabbit')]);
  await writeFile(join(storeDir, 'x509', 'ca', 'wabbit', 'root.pem'), await readFile(notationRoot));
  const otherRootDir = f('other-store');
  await mustRun('mkdir', ['-p', otherRootDir]);
  await writeFile(join(otherRootDir, 'root.pem'), await readFile(otherRoot));
  return {
    dir, keys: { p256, p384, rsa, ed25519 }, stranger, rekor, identity,
    fulcio: { root, intermediate: intermediate.cert, leafKey: leaf.key, leafCert: leaf.cert, otherRootDir, otherRoot, otherLeafKey: otherLeaf.key, otherLeafCert: otherLeaf.cert },
    notation: { root: notationRoot, leafKey: notationLeaf.key, leafCert: notationLeaf.cert, subject: notationSubject, storeDir },
  };
}
