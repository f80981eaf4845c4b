// Who a request is, once its credentials are checked.
import type { Access } from './scope.js';
import type { RobotPermission } from './access-store.js';
import type { Role } from './roles.js';

/** A project role an external directory's group gives a user (LDAP, OpenID Connect). */
export interface GroupRole { project: string; role: Role }

/** What a personal access token allows, within its owner's rights: `project` '*' is every project. */
export interface TokenScope { project: string; actions: string[] }

export type UserIdentity = {
  kind: 'user'; name: string; admin: boolean;
  /** Where the user is kept when not in the metadata database, and the roles its groups give. */
  source?: 'ldap' | 'oidc'; roles?: GroupRole[];
};

export type Identity =
  | { kind: 'anonymous' }
  /** A user of the metadata database or of an external directory; `admin` is a system administrator. */
  | UserIdentity
  /** A user of the htpasswd file: full access, as in Distribution. */
  | { kind: 'htpasswd'; name: string }
  | { kind: 'robot'; name: string; permissions: RobotPermission[] }
  /** A personal access token: its owner's rights, narrowed to its scopes. `name` is the owner's. */
  | { kind: 'pat'; name: string; tokenId: string; scopes: TokenScope[]; owner: UserIdentity }
  /** A bearer token: exactly the access its claim lists. */
  | { kind: 'token'; name: string; issuer: string; access: Access[]; credential?: string };

export const ANONYMOUS: Identity = { kind: 'anonymous' };

export function identityName(identity: Identity): string {
  return identity.kind === 'anonymous' ? '-' : identity.name;
}
