// The authenticator contract: credentials in, an identity or a refusal out. Every way of signing
// in (the htpasswd file, database users, robot accounts, bearer tokens; LDAP, OIDC and personal
// access tokens later) is one Authenticator in its own file, composed in order by the chain
// below. Rate limiting and the audit of refusals wrap the chain once (sign-in.ts), and the
// shared bcrypt pool does the comparisons (secrets.ts), so a new authenticator adds neither.
import type { Credentials } from './credentials.js';
import type { Identity } from './identity.js';
import type { SecretMatcher } from './secrets.js';

export type Authentication =
  /** `hash`: the stored hash the secret matched, for credentials that can be revoked (token stamps derive from it). */
  /** `directory`: an external directory (LDAP) checked this sign-in now, not from its cache: worth recording and auditing. */
  | { ok: true; identity: Identity; hash?: string; directory?: boolean }
  /**
   * `reason` never tells whether the name exists: a password authenticator answers `invalid` for
   * a wrong secret and an unknown name alike (`expired` only after the right secret). `subject`:
   * whom a bearer token named, for the log.
   */
  | { ok: false; reason: string; subject?: string };

export interface Authenticator {
  /** What it checks, for logs and tests: htpasswd, users, robots, tokens, ... */
  readonly name: string;
  /** The verdict on `credentials`, or undefined when they are not this authenticator's (another scheme, a name it does not hold). */
  authenticate(credentials: Credentials): Promise<Authentication | undefined>;
  /** The bcrypt cost of the hashes it holds, if any: what checking an unknown name must cost too. */
  hashCost?(): number | undefined;
}

/**
 * Asks each authenticator in order; the first verdict wins. A Basic name nobody holds is
 * compared once against a dummy hash at the cost of the first authenticator's real hashes, so
 * unknown names cost what known ones do (neither time nor CPU tells them apart).
 */
export class AuthenticatorChain implements Authenticator {
  readonly name = 'chain';

  constructor(readonly members: readonly Authenticator[], private readonly secrets: SecretMatcher) {}

  async authenticate(credentials: Credentials): Promise<Authentication | undefined> {
    for (const member of this.members) {
      const verdict = await member.authenticate(credentials);
      if (verdict) return verdict;
    }
    if (credentials.kind !== 'basic') return undefined;
    await this.secrets.unknown(credentials.password, this.hashCost());
    return { ok: false, reason: 'invalid' };
  }

  hashCost(): number | undefined {
    for (const member of this.members) {
      const cost = member.hashCost?.();
      if (cost !== undefined) return cost;
    }
    return undefined;
  }
}
