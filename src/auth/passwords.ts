// Password and secret hashing: bcrypt (the format `htpasswd -B` writes), compared by bcrypt
// itself in constant time. Generated secrets come from the CSPRNG.
import bcrypt from 'bcryptjs';
import { randomBytes } from 'node:crypto';

const COST = 10;

export function hashSecret(secret: string): Promise<string> {
  return bcrypt.hash(secret, COST);
}

export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  // htpasswd writes $2y$; bcryptjs reads $2a$/$2b$, which are the same algorithm.
  const normalised = hash.startsWith('$2y$') ? `$2b$${hash.slice(4)}` : hash;
  if (!/^\$2[abx]\$\d{2}\$/.test(normalised)) return false;
  return bcrypt.compare(secret, normalised);
}

/** A random secret of 24 bytes, URL-safe. */
export function generateSecret(): string {
  return randomBytes(24).toString('base64url');
}

let dummy: string | undefined;

/** A hash of nothing in particular, compared against when the user is unknown, so timing does not tell. */
export function dummyHash(): string {
  dummy ??= bcrypt.hashSync('berth-no-such-user', COST);
  return dummy;
}
