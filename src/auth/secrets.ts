// Comparing a presented secret with a stored bcrypt hash, shared by every password authenticator:
// the comparisons run in the bcrypt worker pool (bcrypt-pool.ts), and a successful one is
// remembered briefly (keyed by a hash of the secret and the stored hash) so that clients sending
// Basic on every request do not pay bcrypt each time.
import { createHash } from 'node:crypto';
import { COST, dummyHash, verifySecret } from './passwords.js';

/** Compares a secret with a stored bcrypt hash. */
export interface PasswordVerifier { verify(secret: string, hash: string): Promise<boolean> }

const CACHE_MS = 60_000;

export class SecretMatcher {
  #verified = new Map<string, number>();
  /** Every bcrypt comparison goes through here (replaceable, to observe them). */
  verifier: PasswordVerifier = { verify: verifySecret };

  constructor(private readonly now: () => number = Date.now) {}

  async matches(secret: string, hash: string): Promise<boolean> {
    const key = createHash('sha256').update(secret).update('\u0000').update(hash).digest('base64');
    const until = this.#verified.get(key);
    const now = this.now();
    if (until !== undefined && until > now) return true;
    if (!(await this.verifier.verify(secret, hash))) return false;
    if (this.#verified.size > 10_000) this.#verified.clear();
    this.#verified.set(key, now + CACHE_MS);
    return true;
  }

  /** The work of checking a name nobody holds: one comparison against a dummy hash at `cost`. */
  async unknown(secret: string, cost: number = COST): Promise<void> {
    await this.verifier.verify(secret, await dummyHash(cost));
  }
}
