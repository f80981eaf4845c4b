// Robot accounts (`robot$<name>`, as in Harbor): a secret, per-project permissions, an optional
// expiry. The `robot$` names are theirs alone, so an unknown robot is refused here, at the cost
// of a real robot's check, without asking the authenticators after this one.
import { ROBOT_PREFIX, type AccessStore } from '../access-store.js';
import type { Authentication, Authenticator } from '../authenticator.js';
import type { Credentials } from '../credentials.js';
import { COST } from '../passwords.js';
import type { SecretMatcher } from '../secrets.js';

export class RobotAuthenticator implements Authenticator {
  readonly name = 'robots';

  constructor(private readonly store: AccessStore, private readonly secrets: SecretMatcher, private readonly now: () => number = Date.now) {}

  async authenticate(credentials: Credentials): Promise<Authentication | undefined> {
    if (credentials.kind !== 'basic' || !credentials.user.startsWith(ROBOT_PREFIX)) return undefined;
    const robot = await this.store.robot(credentials.user);
    if (!robot) {
      await this.secrets.unknown(credentials.password, COST);
      return { ok: false, reason: 'invalid' };
    }
    if (!(await this.secrets.matches(credentials.password, robot.secretHash))) return { ok: false, reason: 'invalid' };
    // Only after the right secret: an expired robot's secret says nothing to one who lacks it.
    if (robot.expiresAt !== null && Date.parse(robot.expiresAt) <= this.now()) return { ok: false, reason: 'expired' };
    return { ok: true, identity: { kind: 'robot', name: robot.name, permissions: robot.permissions }, hash: robot.secretHash };
  }

  hashCost(): number {
    return COST;
  }
}
