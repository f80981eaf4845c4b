// cosign signatures (tag scheme or referrers): a simple-signing payload that must name this
// image's digest, signed with a configured public key or with a certificate that chains to a
// configured root and names an accepted identity. A Rekor bundle, when present and Rekor's key
// is configured, must verify too, and the certificate is then judged at the time Rekor logged it.
import { X509Certificate } from 'node:crypto';
import { ANNOTATION, COSIGN_PAYLOAD_TYPE } from './formats.js';
import { accept, refuse, type Check } from './check.js';
import type { PolicyMaterial } from './material.js';
import { signatureVerifies } from './signature-check.js';
import { verifyRekorBundle } from './rekor-bundle.js';
import { certificatesFromPem, verifyChain } from './x509-chain.js';
import { describeIdentity, identityAccepted, identityOf } from './identity.js';

interface SimpleSigning {
  critical?: { type?: unknown; image?: { 'docker-manifest-digest'?: unknown } };
}

/** Checks the payload names `digest` (a valid signature over another image counts for nothing). */
export function payloadNames(payload: Buffer, digest: string): string | undefined {
  let doc: SimpleSigning;
  try {
    doc = JSON.parse(payload.toString('utf8')) as SimpleSigning;
  } catch {
    return 'the simple-signing payload is not JSON';
  }
  if (doc.critical?.type !== COSIGN_PAYLOAD_TYPE) return `the payload's critical.type is not "${COSIGN_PAYLOAD_TYPE}"`;
  const named = doc.critical.image?.['docker-manifest-digest'];
  if (named !== digest) return `the payload signs ${typeof named === 'string' ? named : 'no digest'}, not ${digest}`;
  return undefined;
}

export function checkCosign(payload: Buffer, annotations: Record<string, string>, digest: string, material: PolicyMaterial, now: Date): Check {
  const wrongPayload = payloadNames(payload, digest);
  if (wrongPayload) return refuse(wrongPayload);
  const sigText = annotations[ANNOTATION.signature];
  if (!sigText) return refuse('no dev.cosignproject.cosign/signature annotation');
  const signature = Buffer.from(sigText, 'base64');
  let loggedAt: Date | undefined;
  const bundle = annotations[ANNOTATION.bundle];
  if (bundle && material.rekorKey) {
    try {
      loggedAt = verifyRekorBundle(bundle, material.rekorKey, sigText, payload);
    } catch (err) {
      return refuse((err as Error).message);
    }
  }
  const certPem = annotations[ANNOTATION.certificate];
  if (certPem) return checkCertificate(certPem, annotations[ANNOTATION.chain], payload, signature, material, loggedAt ?? now, loggedAt);
  const key = material.keys.find((k) => signatureVerifies(k.key, payload, signature));
  if (key) return accept(`key ${key.name}`, loggedAt);
  return refuse(material.keys.length === 0 ? 'signed with a key, and the policy names no keys' : 'the signature verifies with none of the policy\'s keys');
}

function checkCertificate(pem: string, chainPem: string | undefined, payload: Buffer, signature: Buffer, material: PolicyMaterial, at: Date, loggedAt: Date | undefined): Check {
  const certs = material.certificates;
  if (!certs) return refuse('signed with a certificate, and the policy names no certificate roots');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pem);
  } catch {
    return refuse('the signing certificate is not a PEM certificate');
  }
  if (!signatureVerifies(leaf.publicKey, payload, signature)) return refuse('the signature does not verify with its certificate');
  try {
    verifyChain(leaf, chainPem ? certificatesFromPem(chainPem) : [], certs.roots, at);
  } catch (err) {
    return refuse((err as Error).message);
  }
  const identity = identityOf(pem);
  if (!identityAccepted(identity, certs.identities)) return refuse(`signed by ${describeIdentity(identity)}, not an accepted identity`);
  return accept(`certificate ${describeIdentity(identity)}`, loggedAt);
}
