// The external directories `auth` configures (LDAP now, OpenID Connect too): what each adds to
// the authenticator chain, to the user directory (who a name is now) and to /readyz. A directory
// that cannot be reached at start is logged with the cause and reported by /readyz until it
// answers; the registry still starts (its database users and tokens keep working).
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config/schema.js';
import type { Check } from '../../health/checks.js';
import type { Authenticator } from '../authenticator.js';
import type { ExternalDirectory, ExternalUserStore } from '../external-users.js';
import { LdapAuthenticator } from '../authenticators/ldap.js';
import { LdapDirectory } from './ldap.js';

export interface Directories {
  ldap: LdapDirectory | undefined;
  list: ExternalDirectory[];
  authenticators: Authenticator[];
  checks: Array<[string, Check]>;
  close(): Promise<void>;
}

export async function startDirectories(auth: NonNullable<Config['auth']>, _external: ExternalUserStore, logger?: Pick<FastifyBaseLogger, 'error'>): Promise<Directories> {
  if (auth.oidc) throw new Error('auth.oidc: OpenID Connect sign-in is not available in this build yet');
  const ldap = auth.ldap ? new LdapDirectory(auth.ldap) : undefined;
  if (ldap) await ldap.check().catch((err: unknown) => logger?.error({ err }, `auth.ldap: the directory cannot be used yet: ${(err as Error).message}`));
  return {
    ldap,
    list: [...(ldap ? [ldap] : [])],
    authenticators: [...(ldap ? [new LdapAuthenticator(ldap)] : [])],
    checks: [...(ldap ? [['ldap', () => ldap.check()] as [string, Check]] : [])],
    close: async () => {
      await ldap?.close();
    },
  };
}
