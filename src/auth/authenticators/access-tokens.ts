// Personal access tokens used as the password of Basic credentials (`bob:berth_pat_...`), the way
// docker, podman, skopeo and ctr send them. The token's text marks it, so it is checked here and
// never compared as a password: a refusal here is final. The user name must be the token's owner,
// and the owner must still exist (in the database or its directory) with the rights it has now.
import type { AccessTokenStore } from '../access-tokens.js';
import { TOKEN_PREFIX } from '../access-tokens.js';
import type { Authentication, Authenticator } from '../authenticator.js';
import type { Credentials } from '../credentials.js';
import type { UserDirectory } from '../user-directory.js';

export class AccessTokenAuthenticator implements Authenticator {
  readonly name = 'access-tokens';

  constructor(private readonly tokens: AccessTokenStore, private readonly users: UserDirectory) {}

  async authenticate(credentials: Credentials): Promise<Authentication | undefined> {
    if (credentials.kind !== 'basic' || !credentials.password.startsWith(TOKEN_PREFIX)) return undefined;
    const checked = await this.tokens.check(credentials.password);
    if (!checked.ok) return { ok: false, reason: checked.reason };
    const { token, hash } = checked;
    if (token.owner !== credentials.user) return { ok: false, reason: 'invalid' };
    const owner = await this.users.user(token.owner);
    if (!owner) return { ok: false, reason: 'token owner no longer exists' };
    return { ok: true, identity: { kind: 'pat', name: owner.name, tokenId: token.id, scopes: token.scopes, owner }, hash };
  }
}
