// The external directories `auth` configures (LDAP, OpenID Connect): what each adds to
// the authenticator chain, to the user directory (who a name is now) and to /readyz. A directory
// that cannot be reached at start is logged with the cause and reported by /readyz until it
// answers; the registry still starts (its database users and tokens keep working).
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config/schema.js';
import type { Check } from '../../health/checks.js';
import type { Authenticator } from '../authenticator.js';
import type { ExternalDirectory, ExternalUserStore } from '../external-users.js';
import type { LdapDirectory } from './ldap.js';
import type { OidcDirectory } from './oidc.js';

export interface Directories {
  ldap: LdapDirectory | undefined;
  /** Signs users in to the console only (console/oidc-routes.ts): no authenticator. */
  oidc: OidcDirectory | undefined;
  list: ExternalDirectory[];
  authenticators: Authenticator[];
  checks: Array<[string, Check]>;
  close(): Promise<void>;
}

export async function startDirectories(auth: NonNullable<Config['auth']>, external: ExternalUserStore, logger?: Pick<FastifyBaseLogger, 'error'>): Promise<Directories> {
  // Loaded only when configured: ldapts, openid-client, jose and undici cost start time and memory.
  const ldap = auth.ldap ? new (await import('./ldap.js')).LdapDirectory(auth.ldap) : undefined;
  const oidc = auth.oidc ? new (await import('./oidc.js')).OidcDirectory(auth.oidc, external) : undefined;
  const ldapAuthenticator = ldap ? new (await import('../authenticators/ldap.js')).LdapAuthenticator(ldap) : undefined;
  if (ldap) await ldap.check().catch((err: unknown) => logger?.error({ err }, `auth.ldap: the directory cannot be used yet: ${(err as Error).message}`));
  if (oidc) await oidc.check().catch((err: unknown) => logger?.error({ err }, `auth.oidc: the provider cannot be used yet: ${(err as Error).message}`));
  const checks: Array<[string, Check]> = [];
  if (ldap) checks.push(['ldap', () => ldap.check()]);
  if (oidc) checks.push(['oidc', () => oidc.check()]);
  return {
    ldap, oidc, checks,
    list: [...(ldap ? [ldap] : []), ...(oidc ? [oidc] : [])],
    authenticators: ldapAuthenticator ? [ldapAuthenticator] : [],
    close: async () => {
      await ldap?.close();
    },
  };
}
