// Endpoint passwords at rest: AES-256-GCM under the key of `replication.key`/`keyfile`, a fresh
// 12-byte IV per value, stored as base64 of iv | tag | ciphertext. A wrong key or a changed
// byte fails the tag check instead of yielding a wrong password.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export class SealingError extends Error {}

/** The 32-byte key from `key` (base64) or the file `keyfile`; undefined when neither is set. */
export function sealingKey(settings: { key?: string | undefined; keyfile?: string | undefined }): Buffer | undefined {
  let text = settings.key;
  if (text === undefined && settings.keyfile !== undefined) {
    try {
      text = readFileSync(settings.keyfile, 'utf8').trim();
    } catch (err) {
      throw new SealingError(`replication.keyfile: cannot read ${settings.keyfile}: ${(err as Error).message}`);
    }
  }
  if (text === undefined) return undefined;
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new SealingError(`replication.${settings.key !== undefined ? 'key' : 'keyfile'}: the key must be 32 bytes in base64 (openssl rand -base64 32)`);
  return key;
}

export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function unseal(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < 28) throw new SealingError('a stored credential is damaged');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new SealingError('a stored credential cannot be decrypted with the configured replication key');
  }
}
