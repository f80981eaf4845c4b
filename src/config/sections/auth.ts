// `auth`: who may use the registry. Distribution's `htpasswd` and `token` kinds (one at a time),
// plus Berth's own access-control keys (address allow-list, failed-login limits, the built-in
// token server's signing key and token lifetime). Users, projects and robots live in the
// metadata database, not here.
import { Type, type Static } from '@sinclair/typebox';
import { millis, notSecret, secret, strict } from './common.js';
import { LdapAuth, OidcAuth, directoryConfigProblems } from './directories.js';

const HtpasswdAuth = Type.Object({
  realm: Type.String({ default: 'berth' }),
  path: Type.String({ minLength: 1 }),
}, { ...strict, ...notSecret('the htpasswd section: a realm and the path of the file') });

const TokenAuth = Type.Object({
  /** Where clients get tokens. Empty with the built-in server: derived from each request's host. */
  realm: Type.String({ default: '' }),
  service: Type.String({ default: 'berth' }),
  issuer: Type.String({ default: 'berth-token-server' }),
  /** Certificates whose keys (or whose chains, through the token's x5c) sign accepted tokens. */
  rootcertbundle: Type.Optional(Type.String({ minLength: 1 })),
  /** A JWKS file (or http(s) URL) of keys that sign accepted tokens. */
  jwks: Type.Optional(Type.String({ minLength: 1, ...secret('url') })),
  autoredirect: Type.Boolean({ default: false }),
  /** Berth: path of the built-in token server's private key (PEM); generated beside the metadata when absent. */
  signingkey: Type.Optional(Type.String({ minLength: 1, ...secret('path') })),
  /** Berth: lifetime of issued access tokens. */
  expiration: millis('5m'),
  /** Berth: lifetime of refresh tokens (OAuth2 `access_type=offline`). */
  refreshexpiration: millis('720h'),
  /** Berth: serve `/auth/token`. Defaults to true unless rootcertbundle or jwks name an external server. */
  builtin: Type.Optional(Type.Boolean()),
}, { ...strict, ...notSecret('the token authentication section, not a token') });

export const AuthSection = Type.Optional(Type.Object({
  htpasswd: Type.Optional(HtpasswdAuth),
  token: Type.Optional(TokenAuth),
  /** Berth: users of an LDAP directory (Active Directory, OpenLDAP) sign in with their passwords. */
  ldap: Type.Optional(LdapAuth),
  /** Berth: users of an OpenID Connect provider sign in to the console (and use personal access tokens elsewhere). */
  oidc: Type.Optional(OidcAuth),
  // Distribution's test-only kind: refused by name rather than as an unknown key.
  silly: Type.Optional(Type.Unknown()),
  /** Berth: CIDRs allowed to reach the registry at all (empty: everyone). */
  allowfrom: Type.Array(Type.String(), { default: [] }),
  /** Berth: what the audit log records beyond changes and refused sign-ins. */
  audit: Type.Optional(Type.Object({
    /** Every manifest pull (GET), written in batches (1 s or 500 records); off: busy registries pull a lot. */
    pulls: Type.Boolean({ default: false }),
  }, strict)),
  /** Berth: failed logins allowed per user and per address within `window`, then 429. */
  ratelimit: Type.Object({
    attempts: Type.Integer({ default: 5, minimum: 1 }),
    window: millis('1m'),
  }, { ...strict, default: {} }),
}, strict));

export type AuthConfig = NonNullable<Static<typeof AuthSection>>;

/** Checks the parts of `auth` a schema cannot express; returns problems. */
export function authConfigProblems(auth: AuthConfig | undefined): string[] {
  if (auth === undefined) return [];
  const problems: string[] = [];
  if (auth.silly !== undefined) problems.push('auth.silly: Distribution\'s test-only authentication is not supported; use htpasswd or token');
  if (auth.htpasswd && auth.token) problems.push('auth: configure one of auth.htpasswd and auth.token, not both');
  if (auth.token && auth.token.builtin === false && !auth.token.rootcertbundle && !auth.token.jwks) {
    problems.push('auth.token: with builtin: false, rootcertbundle or jwks must name the keys that sign tokens');
  }
  if (auth.token && auth.token.builtin === false && !auth.token.realm) problems.push('auth.token.realm: required for an external token server');
  problems.push(...directoryConfigProblems(auth.ldap, auth.oidc));
  for (const cidr of auth.allowfrom) if (!isCidr(cidr)) problems.push(`auth.allowfrom: "${cidr}" is not an address or CIDR`);
  return problems;
}

export function isCidr(text: string): boolean {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return false;
  const v4 = /^(\d{1,3})(\.\d{1,3}){3}$/.test(m[1]!) && m[1]!.split('.').every((p) => Number(p) <= 255);
  const v6 = !v4 && /^[0-9a-fA-F:.]+$/.test(m[1]!) && m[1]!.includes(':');
  if (!v4 && !v6) return false;
  return m[2] === undefined || Number(m[2]) <= (v4 ? 32 : 128);
}
