// Users of the metadata database (`berth user`, the admin API); `admin` marks a system administrator.
import type { AccessStore } from '../access-store.js';
import type { Authentication, Authenticator } from '../authenticator.js';
import type { Credentials } from '../credentials.js';
import { COST } from '../passwords.js';
import type { SecretMatcher } from '../secrets.js';

export class DatabaseUserAuthenticator implements Authenticator {
  readonly name = 'users';

  constructor(private readonly store: AccessStore, private readonly secrets: SecretMatcher) {}

  async authenticate(credentials: Credentials): Promise<Authentication | undefined> {
    if (credentials.kind !== 'basic') return undefined;
    const stored = await this.store.user(credentials.user);
    if (!stored) return undefined;
    if (!(await this.secrets.matches(credentials.password, stored.passwordHash))) return { ok: false, reason: 'invalid' };
    return { ok: true, identity: { kind: 'user', name: stored.name, admin: stored.admin }, hash: stored.passwordHash };
  }

  hashCost(): number {
    return COST;
  }
}
