// Checks a user name and password (or robot secret) against the htpasswd file, the users and the
// robot accounts of the metadata database. Every check is counted by the failed-login limiter
// before bcrypt runs (rate-limit.ts), and bcrypt runs in worker threads (bcrypt-pool.ts). Unknown
// users cost the same one bcrypt comparison, at the same cost factor, as known ones; a successful
// check is remembered briefly (keyed by a hash of the secret and the stored hash) so that clients
// sending Basic on every request do not pay bcrypt each time.
import { createHash } from 'node:crypto';
import type { AccessStore } from './access-store.js';
import { ROBOT_PREFIX } from './access-store.js';
import type { HtpasswdFile } from './htpasswd.js';
import type { Identity } from './identity.js';
import { COST, dummyHash, verifySecret } from './passwords.js';
import type { FailedLoginLimiter } from './rate-limit.js';

export type CheckResult =
  /** `hash`: the stored hash the secret matched (token stamps derive from it). */
  | { ok: true; identity: Identity; hash: string }
  | { ok: false; reason: 'invalid' | 'expired' }
  | { ok: false; reason: 'rate-limited'; retryAfter: number };

/** Compares a secret with a stored bcrypt hash. */
export interface PasswordVerifier { verify(secret: string, hash: string): Promise<boolean> }

const CACHE_MS = 60_000;

export class CredentialChecker {
  #verified = new Map<string, number>();
  /** Every bcrypt comparison goes through here (replaceable, to observe them). */
  verifier: PasswordVerifier = { verify: verifySecret };

  constructor(
    private readonly store: AccessStore | undefined,
    private readonly htpasswd: HtpasswdFile | undefined,
    private readonly limiter: FailedLoginLimiter,
    private readonly now: () => number = Date.now,
  ) {}

  /** Told of every refused sign-in (never the secret), before `check` answers: the audit log. */
  onFailure: ((user: string, address: string, reason: string) => Promise<void>) | undefined;

  async check(user: string, secret: string, address: string): Promise<CheckResult> {
    const reservation = await this.limiter.reserve(user, address);
    if (!reservation.ok) {
      await this.onFailure?.(user, address, 'rate-limited');
      return { ok: false, reason: 'rate-limited', retryAfter: reservation.retryAfter };
    }
    const result = await this.#verify(user, secret);
    if (result.ok) await this.limiter.succeeded(user, address, reservation);
    else await this.onFailure?.(user, address, result.reason);
    return result;
  }

  async #verify(user: string, secret: string): Promise<CheckResult> {
    const fromFile = this.htpasswd?.hashOf(user);
    if (fromFile !== undefined) {
      return (await this.#matches(secret, fromFile)) ? { ok: true, identity: { kind: 'htpasswd', name: user }, hash: fromFile } : { ok: false, reason: 'invalid' };
    }
    if (this.store && user.startsWith(ROBOT_PREFIX)) {
      const robot = await this.store.robot(user);
      if (!robot) return this.#unknown(secret, COST);
      if (!(await this.#matches(secret, robot.secretHash))) return { ok: false, reason: 'invalid' };
      if (robot.expiresAt !== null && Date.parse(robot.expiresAt) <= this.now()) return { ok: false, reason: 'expired' };
      return { ok: true, identity: { kind: 'robot', name: robot.name, permissions: robot.permissions }, hash: robot.secretHash };
    }
    const stored = await this.store?.user(user);
    // Users are looked for in the file first: an unknown name costs what the file's users cost.
    if (!stored) return this.#unknown(secret, this.htpasswd?.cost() ?? COST);
    if (!(await this.#matches(secret, stored.passwordHash))) return { ok: false, reason: 'invalid' };
    return { ok: true, identity: { kind: 'user', name: stored.name, admin: stored.admin }, hash: stored.passwordHash };
  }

  async #unknown(secret: string, cost: number): Promise<CheckResult> {
    await this.verifier.verify(secret, await dummyHash(cost));
    return { ok: false, reason: 'invalid' };
  }

  async #matches(secret: string, hash: string): Promise<boolean> {
    const key = createHash('sha256').update(secret).update('\u0000').update(hash).digest('base64');
    const until = this.#verified.get(key);
    const now = this.now();
    if (until !== undefined && until > now) return true;
    if (!(await this.verifier.verify(secret, hash))) return false;
    if (this.#verified.size > 10_000) this.#verified.clear();
    this.#verified.set(key, now + CACHE_MS);
    return true;
  }
}
