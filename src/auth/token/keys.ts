// The built-in token server's signing key (EC P-256, ES256): read from a PEM file, or generated
// and written there (mode 0600) on first start. Its key id is libtrust's fingerprint, the form
// CNCF Distribution matches a token's `kid` against.
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readPrivateKeyFile } from '../../config/key-files.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  alg: 'ES256' | 'RS256';
}

export function loadOrCreateSigningKey(path: string | undefined): SigningKey {
  let privateKey: KeyObject;
  if (path && existsSync(path)) {
    privateKey = readPrivateKeyFile('auth.token.signingkey', path);
  } else {
    privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    if (path) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
  }
  const publicKey = createPublicKey(privateKey);
  const alg = privateKey.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256';
  if (alg === 'ES256' && privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`token signing key ${path ?? ''}: only EC P-256 and RSA keys are supported`);
  }
  return { privateKey, publicKey, kid: libtrustKeyId(publicKey), alg };
}

/** libtrust's key id: base32 of the first 240 bits of SHA-256(DER SPKI), in 12 groups of 4. */
export function libtrustKeyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const digest = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}
