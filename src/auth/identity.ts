// Who a request is, once its credentials are checked.
import type { Access } from './scope.js';
import type { RobotPermission } from './access-store.js';

export type Identity =
  | { kind: 'anonymous' }
  /** A user of the metadata database; `admin` is a system administrator. */
  | { kind: 'user'; name: string; admin: boolean }
  /** A user of the htpasswd file: full access, as in Distribution. */
  | { kind: 'htpasswd'; name: string }
  | { kind: 'robot'; name: string; permissions: RobotPermission[] }
  /** A bearer token: exactly the access its claim lists. */
  | { kind: 'token'; name: string; issuer: string; access: Access[] };

export const ANONYMOUS: Identity = { kind: 'anonymous' };

export function identityName(identity: Identity): string {
  return identity.kind === 'anonymous' ? '-' : identity.name;
}
