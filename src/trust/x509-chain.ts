// Certificate paths for cosign certificates and Notation signatures: from the signer's
// certificate through the intermediates the signature carries to one of the roots the
// administrator configured. Node's X509Certificate does the parsing and signature checks;
// this only walks the path and checks each link's validity at the time that counts.
import { X509Certificate } from 'node:crypto';

/** The certificates of a PEM file or string, in order (a bundle may hold several). */
export function certificatesFromPem(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  const begin = '-----BEGIN CERTIFICATE-----';
  const end = '-----END CERTIFICATE-----';
  let at = pem.indexOf(begin);
  while (at !== -1) {
    const stop = pem.indexOf(end, at);
    if (stop === -1) break;
    out.push(new X509Certificate(pem.slice(at, stop + end.length)));
    at = pem.indexOf(begin, stop);
  }
  return out;
}

const MAX_PATH = 8;

/**
 * Checks that `leaf` chains to one of `roots` through `intermediates` (untrusted: used only to
 * build the path), every certificate valid at `at`. Returns the root reached, or throws why not.
 */
export function verifyChain(leaf: X509Certificate, intermediates: X509Certificate[], roots: X509Certificate[], at: Date): X509Certificate {
  validAt(leaf, at, 'signing certificate');
  let current = leaf;
  for (let depth = 0; depth < MAX_PATH; depth++) {
    const root = roots.find((r) => issued(r, current));
    if (root) {
      validAt(root, at, 'root certificate');
      return root;
    }
    // A root given among the intermediates is only trusted when it is configured (handled above).
    const next = intermediates.find((c) => c !== current && !c.checkIssued(c) && issued(c, current));
    if (!next) break;
    if (!next.ca) throw new Error(`intermediate ${next.subject.replaceAll('\n', ', ')} is not a CA`);
    validAt(next, at, 'intermediate certificate');
    current = next;
  }
  throw new Error(`certificate ${leaf.subject.replaceAll('\n', ', ')} does not chain to a configured root`);
}

function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  if (issuer.fingerprint256 === cert.fingerprint256) {
    // The leaf is itself a configured root (self-signed and trusted as is).
    return cert.verify(issuer.publicKey);
  }
  return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function validAt(cert: X509Certificate, at: Date, what: string): void {
  if (at < new Date(cert.validFrom) || at > new Date(cert.validTo)) {
    throw new Error(`${what} ${cert.subject.replaceAll('\n', ', ')} is not valid at ${at.toISOString()} (valid ${new Date(cert.validFrom).toISOString()} to ${new Date(cert.validTo).toISOString()})`);
  }
}
