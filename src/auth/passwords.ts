// Password and secret hashing: bcrypt (the format `htpasswd -B` writes), compared by bcrypt
// itself in constant time, in worker threads (bcrypt-pool.ts). Generated secrets come from the CSPRNG.
import { randomBytes } from 'node:crypto';
import { bcryptPool } from './bcrypt-pool.js';

/** The cost of the hashes Berth writes. */
export const COST = 10;

export function hashSecret(secret: string): Promise<string> {
  return bcryptPool().hash(secret, COST);
}

export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  const normalised = normaliseHash(hash);
  if (normalised === undefined) return false;
  return bcryptPool().compare(secret, normalised);
}

/** htpasswd writes $2y$; bcryptjs reads $2a$/$2b$, which are the same algorithm. Undefined: not bcrypt. */
function normaliseHash(hash: string): string | undefined {
  const normalised = hash.startsWith('$2y$') ? `$2b$${hash.slice(4)}` : hash;
  return /^\$2[abx]\$\d{2}\$/.test(normalised) ? normalised : undefined;
}

/** The cost factor of a bcrypt hash (its work is 2^cost), or undefined when it is not one. */
export function bcryptCost(hash: string): number | undefined {
  const m = /^\$2[abxy]\$(\d{2})\$/.exec(hash);
  return m ? Number(m[1]) : undefined;
}

/** A random secret of 24 bytes, URL-safe. */
export function generateSecret(): string {
  return randomBytes(24).toString('base64url');
}

const dummies = new Map<number, Promise<string>>();

/**
 * A hash of nothing in particular at `cost`, compared against when the user is unknown, so that
 * neither timing nor CPU tells unknown users from known ones: `cost` must be that of real hashes.
 */
export function dummyHash(cost: number = COST): Promise<string> {
  let hash = dummies.get(cost);
  if (!hash) {
    hash = bcryptPool().hash(randomBytes(16).toString('base64url'), cost);
    hash.catch(() => dummies.delete(cost));
    dummies.set(cost, hash);
  }
  return hash;
}
