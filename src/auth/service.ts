// Everything authentication and access control needs at run time, built once from the
// configuration: the metadata database, the authenticator chain behind one sign-in (rate limit
// and audit around it), the authorizer, and for token auth the issuer (built-in server) and the
// verifier. `undefined` when `auth` is absent. A new way of signing in is one Authenticator
// (authenticator.ts) added to the chain here.
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { openMetaDatabase, type MetaDatabase } from '../meta/database.js';
import { metaOptionsFromConfig } from '../meta/from-config.js';
import { AccessStore } from './access-store.js';
import { AddressList } from './allowlist.js';
import { ProxyTrust } from '../net/proxy-trust.js';
import { Authorizer } from './authorizer.js';
import { AuthenticatorChain, type Authenticator } from './authenticator.js';
import { HtpasswdAuthenticator } from './authenticators/htpasswd.js';
import { RobotAuthenticator } from './authenticators/robots.js';
import { DatabaseUserAuthenticator } from './authenticators/users.js';
import { SecretMatcher } from './secrets.js';
import { SignIn } from './sign-in.js';
import { BearerTokenAuthenticator } from './token/authenticator.js';
import { HtpasswdFile } from './htpasswd.js';
import { generateSecret } from './passwords.js';
import { appendAudit } from './audit.js';
import { PullAudit } from './pull-audit.js';
import { LoginRateLimiter, type FailedLoginLimiter } from './rate-limit.js';
import { RedisLoginRateLimiter } from './redis-rate-limit.js';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { TokenIssuer } from './token/issuer.js';
import { loadOrCreateSigningKey } from './token/keys.js';
import { TokenVerifier } from './token/verifier.js';
import { CredentialStamps } from './token/revocation.js';
import { Subjects } from './subjects.js';
import { AccessTokenStore } from './access-tokens.js';
import { AccessTokenAuthenticator } from './authenticators/access-tokens.js';
import { ExternalUserStore } from './external-users.js';
import { UserDirectory } from './user-directory.js';
import { startDirectories, type Directories } from './directories/start.js';
import type { Check } from '../health/checks.js';

export interface AuthService {
  /** basic: htpasswd-style Basic on every request; token: Bearer tokens; open: only allow-lists. */
  mode: 'basic' | 'token' | 'open';
  realm: string;
  service: string;
  meta: MetaDatabase;
  store: AccessStore;
  /** Every sign-in (registry API, token server, admin API): the authenticator chain behind the failed-login limiter. */
  signIn: SignIn;
  /** The bcrypt comparisons of every password authenticator. */
  secrets: SecretMatcher;
  authorizer: Authorizer;
  /** The built-in token server, when this registry issues its own tokens. */
  issuer: TokenIssuer | undefined;
  verifier: TokenVerifier | undefined;
  /** Stamps of credentials in built-in tokens, so that changing a credential revokes them. */
  stamps: CredentialStamps | undefined;
  /** What built-in tokens' subjects stand for now, and the stamps of the credentials they were issued for. */
  subjects: Subjects;
  /** Personal access tokens (shown once, stored hashed). */
  tokens: AccessTokenStore;
  /** Users wherever they are kept: the metadata database, LDAP, OpenID Connect. */
  users: UserDirectory;
  /** Users that LDAP or OpenID Connect signed in, with the roles their groups gave. */
  externalUsers: ExternalUserStore;
  allowFrom: AddressList;
  /** Whose forwarding headers are believed, and so the client address of a request. */
  proxies: ProxyTrust;
  /** Collects manifest pulls for the audit log, when auth.audit.pulls is on. */
  pulls: PullAudit | undefined;
  /** LDAP and OpenID Connect, when configured. */
  directories: Directories;
  /** Readiness checks of what authentication depends on (the LDAP server, the OpenID provider), by name. */
  checks: Array<[string, Check]>;
  close(): Promise<void>;
}

export interface AuthStartOptions {
  /** Told once, on first start, the generated administrator password. */
  announce?: (text: string) => void;
  meta?: MetaDatabase;
  /** Where a lost audit record is reported. */
  logger?: Pick<FastifyBaseLogger, 'error'>;
  /** Shared by the replicas: failed logins are counted there (logged through `logger`). */
  redis?: { client: Redis; logger: FastifyBaseLogger };
}

export const BOOTSTRAP_ADMIN = 'admin';

/** `admin`, or when the htpasswd file already has that user, the first of berth-admin, berth-admin-2, ... it lacks. */
function bootstrapAdminName(htpasswd: HtpasswdFile | undefined): string {
  if (!htpasswd?.has(BOOTSTRAP_ADMIN)) return BOOTSTRAP_ADMIN;
  for (let i = 1; ; i++) {
    const name = i === 1 ? `berth-${BOOTSTRAP_ADMIN}` : `berth-${BOOTSTRAP_ADMIN}-${i}`;
    if (!htpasswd.has(name)) return name;
  }
}

export async function startAuth(config: Config, options: AuthStartOptions = {}): Promise<AuthService | undefined> {
  const auth = config.auth;
  if (!auth) return undefined;
  const meta = options.meta ?? await openMetaDatabase(metaOptionsFromConfig(config));
  try {
    const store = new AccessStore(meta.db);
    const limits = { attempts: auth.ratelimit.attempts, windowMs: auth.ratelimit.window };
    const limiter: FailedLoginLimiter = options.redis
      ? new RedisLoginRateLimiter(options.redis.client, limits, options.redis.logger) : new LoginRateLimiter(limits);
    const htpasswd = auth.htpasswd ? new HtpasswdFile(auth.htpasswd.path) : undefined;
    let issuer: TokenIssuer | undefined;
    let verifier: TokenVerifier | undefined;
    const token = auth.token;
    if (token) {
      const builtin = token.builtin ?? (!token.rootcertbundle && !token.jwks);
      if (builtin) {
        const keyPath = token.signingkey ?? (config.storage.filesystem ? join(config.storage.filesystem.rootdirectory, 'berth', 'token-signing-key.pem') : undefined);
        const key = loadOrCreateSigningKey(keyPath);
        issuer = new TokenIssuer({
          key, issuer: token.issuer, service: token.service,
          expiresInSec: Math.max(1, Math.round(token.expiration / 1000)),
          refreshExpiresInSec: Math.max(1, Math.round(token.refreshexpiration / 1000)),
        });
      }
      verifier = new TokenVerifier({
        issuer: token.issuer, service: token.service, keys: issuer ? [issuer.options.key.publicKey] : [],
        ...(token.rootcertbundle ? { rootCertBundle: token.rootcertbundle } : {}),
        ...(token.jwks ? { jwks: token.jwks } : {}),
      });
    }
    const stamps = issuer ? new CredentialStamps(issuer.options.key) : undefined;
    const secrets = new SecretMatcher();
    const tokens = new AccessTokenStore(meta.db);
    const externalUsers = new ExternalUserStore(meta.db);
    const directories = await startDirectories(auth, externalUsers, options.logger);
    const users = new UserDirectory(store, externalUsers, directories.list);
    const subjects = new Subjects(store, stamps, { tokens, users });
    // Personal access tokens first (their text marks them, so no password check ever sees one);
    // then the file: its users win over database users, and an unknown name costs what its users cost.
    const authenticators: Authenticator[] = [
      new AccessTokenAuthenticator(tokens, users),
      ...(htpasswd ? [new HtpasswdAuthenticator(htpasswd, secrets)] : []),
      new RobotAuthenticator(store, secrets),
      new DatabaseUserAuthenticator(store, secrets),
      ...directories.authenticators,
      ...(verifier ? [new BearerTokenAuthenticator(verifier, { subjects, issuer })] : []),
    ];
    const signIn = new SignIn(new AuthenticatorChain(authenticators, secrets), limiter);
    // Sign-ins refused anywhere (registry API, token endpoint, admin API) are audited; a lost
    // record is logged, never a reason to answer the client differently.
    signIn.onFailure = (user, address, reason) => appendAudit(meta.db, { actor: user, address, action: 'login.failed', target: user, detail: { reason } })
      .catch((err: unknown) => options.logger?.error({ err }, 'audit record lost'));
    // A directory's sign-ins (not those its cache answered) are recorded, so their tokens can be judged later, and audited.
    signIn.onDirectorySignIn = async (identity, address) => {
      if (identity.kind !== 'user') return;
      await externalUsers.record(identity);
      await appendAudit(meta.db, { actor: identity.name, address, action: 'login', target: identity.name, detail: { source: identity.source, admin: identity.admin, roles: identity.roles } })
        .catch((err: unknown) => options.logger?.error({ err }, 'audit record lost'));
    };
    if ((auth.htpasswd || token || auth.ldap || auth.oidc) && (await store.countUsers()) === 0) {
      const name = bootstrapAdminName(htpasswd);
      const password = generateSecret();
      await store.addUser(name, password, true);
      // An htpasswd user of the same name would win every sign-in: the password would never work.
      const taken = name === BOOTSTRAP_ADMIN ? '' : `berth: the htpasswd file has a user "${BOOTSTRAP_ADMIN}": it has full registry access `
        + `but is not the system administrator (the admin API and \`berth user\` are for database users)\n`;
      options.announce?.(`berth: first start with authentication: created the system administrator "${name}" `
        + `with password ${password}\n${taken}berth: it is shown this once; change it with \`berth user passwd ${name}\`\n`);
    }
    const pulls = auth.audit?.pulls
      ? new PullAudit(meta.db, (err, count) => options.logger?.error({ err, count }, 'audit records of pulls lost')) : undefined;
    return {
      pulls,
      mode: auth.htpasswd ? 'basic' : token ? 'token' : auth.ldap || auth.oidc ? 'basic' : 'open',
      realm: auth.htpasswd?.realm ?? token?.realm ?? (auth.ldap || auth.oidc ? 'berth' : ''),
      directories, checks: directories.checks,
      service: token?.service ?? '',
      meta, store, signIn, secrets, authorizer: new Authorizer(store), issuer, verifier, stamps, subjects, tokens, users, externalUsers,
      allowFrom: new AddressList(auth.allowfrom),
      proxies: new ProxyTrust(config.http.trustedproxies, config.http.forwardedheader),
      close: async () => {
        await pulls?.flush();
        await directories.close();
        if (!options.meta) await meta.close();
      },
    };
  } catch (err) {
    if (!options.meta) await meta.close();
    throw err;
  }
}
