// Users of the htpasswd file (bcrypt lines, as `htpasswd -B` writes them): full registry access,
// as in Distribution. The file is looked at first, so its users win over database users.
import type { Authentication, Authenticator } from '../authenticator.js';
import type { Credentials } from '../credentials.js';
import type { HtpasswdFile } from '../htpasswd.js';
import type { SecretMatcher } from '../secrets.js';

export class HtpasswdAuthenticator implements Authenticator {
  readonly name = 'htpasswd';

  constructor(private readonly file: HtpasswdFile, private readonly secrets: SecretMatcher) {}

  async authenticate(credentials: Credentials): Promise<Authentication | undefined> {
    if (credentials.kind !== 'basic') return undefined;
    const hash = this.file.hashOf(credentials.user);
    if (hash === undefined) return undefined;
    // No `hash`: the file is not revocable from here, so built-in tokens carry no stamp of it.
    if (await this.secrets.matches(credentials.password, hash)) return { ok: true, identity: { kind: 'htpasswd', name: credentials.user } };
    return { ok: false, reason: 'invalid' };
  }

  hashCost(): number | undefined {
    return this.file.cost();
  }
}
