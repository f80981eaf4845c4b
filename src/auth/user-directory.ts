// Who a user name stands for now, wherever the user is kept: the metadata database first, then
// the external directory that last signed it in (LDAP asked again through its cache; OpenID
// Connect, which cannot be asked without the user, as of the last sign-in). Personal access
// tokens and the built-in token server's tokens are judged by this, so a user removed from the
// directory or from a group loses what it gave within the directory's cache time.
import type { AccessStore } from './access-store.js';
import type { ExternalDirectory, ExternalUserStore } from './external-users.js';
import type { UserIdentity } from './identity.js';

export class UserDirectory {
  constructor(
    private readonly store: AccessStore,
    private readonly external: ExternalUserStore,
    private readonly directories: readonly ExternalDirectory[],
  ) {}

  async user(name: string): Promise<UserIdentity | undefined> {
    const local = await this.store.user(name);
    if (local) return { kind: 'user', name: local.name, admin: local.admin };
    return this.externalUser(name);
  }

  /** The user as its external directory sees it now; undefined when gone, or when that directory is no longer configured. */
  async externalUser(name: string): Promise<UserIdentity | undefined> {
    const seen = await this.external.get(name);
    if (!seen) return undefined;
    return this.directories.find((d) => d.source === seen.source)?.lookup(name);
  }
}
