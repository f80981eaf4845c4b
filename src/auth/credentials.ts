// Checks a user name and password (or robot secret) against the htpasswd file, the users and the
// robot accounts of the metadata database. Unknown users cost the same bcrypt comparison as
// known ones; a successful check is remembered briefly (keyed by a hash of the secret and the
// stored hash) so that clients sending Basic on every request do not pay bcrypt each time.
import { createHash } from 'node:crypto';
import type { AccessStore } from './access-store.js';
import { ROBOT_PREFIX } from './access-store.js';
import type { HtpasswdFile } from './htpasswd.js';
import type { Identity } from './identity.js';
import { dummyHash, verifySecret } from './passwords.js';
import type { FailedLoginLimiter } from './rate-limit.js';

export type CheckResult =
  | { ok: true; identity: Identity }
  | { ok: false; reason: 'invalid' | 'expired' }
  | { ok: false; reason: 'rate-limited'; retryAfter: number };

const CACHE_MS = 60_000;

export class CredentialChecker {
  #verified = new Map<string, number>();

  constructor(
    private readonly store: AccessStore | undefined,
    private readonly htpasswd: HtpasswdFile | undefined,
    private readonly limiter: FailedLoginLimiter,
    private readonly now: () => number = Date.now,
  ) {}

  async check(user: string, secret: string, address: string): Promise<CheckResult> {
    const wait = await this.limiter.retryAfter(user, address);
    if (wait > 0) return { ok: false, reason: 'rate-limited', retryAfter: wait };
    const result = await this.#verify(user, secret);
    if (result.ok) await this.limiter.succeeded(user, address);
    else await this.limiter.failed(user, address);
    return result;
  }

  async #verify(user: string, secret: string): Promise<CheckResult> {
    const fromFile = this.htpasswd?.hashOf(user);
    if (fromFile !== undefined) {
      return (await this.#matches(secret, fromFile)) ? { ok: true, identity: { kind: 'htpasswd', name: user } } : { ok: false, reason: 'invalid' };
    }
    if (this.store && user.startsWith(ROBOT_PREFIX)) {
      const robot = await this.store.robot(user);
      if (!robot) return this.#unknown(secret);
      if (!(await this.#matches(secret, robot.secretHash))) return { ok: false, reason: 'invalid' };
      if (robot.expiresAt !== null && Date.parse(robot.expiresAt) <= this.now()) return { ok: false, reason: 'expired' };
      return { ok: true, identity: { kind: 'robot', name: robot.name, permissions: robot.permissions } };
    }
    const stored = await this.store?.user(user);
    if (!stored) return this.#unknown(secret);
    if (!(await this.#matches(secret, stored.passwordHash))) return { ok: false, reason: 'invalid' };
    return { ok: true, identity: { kind: 'user', name: stored.name, admin: stored.admin } };
  }

  async #unknown(secret: string): Promise<CheckResult> {
    await verifySecret(secret, dummyHash());
    return { ok: false, reason: 'invalid' };
  }

  async #matches(secret: string, hash: string): Promise<boolean> {
    const key = createHash('sha256').update(secret).update('\u0000').update(hash).digest('base64');
    const until = this.#verified.get(key);
    const now = this.now();
    if (until !== undefined && until > now) return true;
    if (!(await verifySecret(secret, hash))) return false;
    if (this.#verified.size > 10_000) this.#verified.clear();
    this.#verified.set(key, now + CACHE_MS);
    return true;
  }
}
