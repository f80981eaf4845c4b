// Endpoint passwords at rest: AES-256-GCM under the key of `replication.key`/`keyfile`, a fresh
// 12-byte IV per value, stored as base64 of iv | tag | ciphertext. A wrong key or a changed
// byte fails the tag check instead of yielding a wrong password.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export class SealingError extends Error {}

interface KeySettings {
  key?: string | undefined;
  keyfile?: string | undefined;
  previouskey?: string | undefined;
  previouskeyfile?: string | undefined;
}

/** The keys credentials are sealed with: `current` seals, `previous` (during a rotation) only opens. */
export interface SealingKeys {
  current: Buffer;
  previous?: Buffer | undefined;
}

function readKey(text: string | undefined, file: string | undefined, name: 'key' | 'previouskey'): Buffer | undefined {
  let value = text;
  if (value === undefined && file !== undefined) {
    try {
      value = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new SealingError(`replication.${name}file: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  if (value === undefined) return undefined;
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new SealingError(`replication.${name}${text !== undefined ? '' : 'file'}: the key must be 32 bytes in base64 (openssl rand -base64 32)`);
  return key;
}

/** The keys from `key`/`keyfile` and `previouskey`/`previouskeyfile`; undefined without a key. */
export function sealingKey(settings: KeySettings): SealingKeys | undefined {
  const current = readKey(settings.key, settings.keyfile, 'key');
  if (!current) return undefined;
  const previous = readKey(settings.previouskey, settings.previouskeyfile, 'previouskey');
  return { current, ...(previous ? { previous } : {}) };
}

/** Opens a value sealed under the current key or, during a rotation, the previous one. */
export function unsealWith(keys: SealingKeys, sealed: string): { plaintext: string; underPrevious: boolean } {
  try {
    return { plaintext: unseal(keys.current, sealed), underPrevious: false };
  } catch (err) {
    if (!keys.previous) throw err;
    return { plaintext: unseal(keys.previous, sealed), underPrevious: true };
  }
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
