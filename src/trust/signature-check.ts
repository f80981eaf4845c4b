// A raw signature over bytes, checked with node:crypto the way cosign's verifiers do: ECDSA
// (ASN.1 DER) with the curve's hash or SHA-256, RSA PKCS#1 v1.5 or PSS with SHA-256, Ed25519.
import { constants, verify, type KeyObject } from 'node:crypto';

const CURVE_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

export function signatureVerifies(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    switch (key.asymmetricKeyType) {
      case 'ed25519':
        return verify(null, data, key, signature);
      case 'ec': {
        const own = CURVE_HASH[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'sha256';
        return verify(own, data, key, signature) || (own !== 'sha256' && verify('sha256', data, key, signature));
      }
      case 'rsa':
        return verify('sha256', data, key, signature)
          || verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature);
      default:
        return false;
    }
  } catch {
    // A malformed signature (bad DER) is a signature that does not verify.
    return false;
  }
}
