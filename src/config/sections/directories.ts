// `auth.ldap` and `auth.oidc`: users kept in an LDAP directory (Active Directory, OpenLDAP) or
// an OpenID Connect provider, their groups mapped to project roles and to system administrator.
import { Type, type StaticDecode } from '@sinclair/typebox';
import { millis, notSecret, secret, strict } from './common.js';

/** Group (an LDAP DN, an OIDC group name) -> the project roles it gives. */
const GroupRoles = Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.Object({
  project: Type.String({ minLength: 1 }),
  role: Type.Union([Type.Literal('guest'), Type.Literal('developer'), Type.Literal('maintainer'), Type.Literal('admin')]),
}, strict)), { default: {} });

export const LdapAuth = Type.Object({
  /** ldap://host:port (with starttls) or ldaps://host:port. */
  url: Type.String({ minLength: 1 }),
  starttls: Type.Boolean({ default: false }),
  /** PEM file of the CA(s) the server's certificate is checked against (ldaps:// and StartTLS). */
  ca: Type.Optional(Type.String({ minLength: 1 })),
  /** Check the server's certificate (name and chain). Off only for tests. */
  verify: Type.Boolean({ default: true }),
  /** The service account that searches for users and groups. */
  binddn: Type.String({ minLength: 1 }),
  bindpassword: Type.Optional(Type.String({ ...secret() })),
  bindpasswordfile: Type.Optional(Type.String({ minLength: 1, ...secret('path') })),
  userbase: Type.String({ minLength: 1 }),
  /** `{username}` is replaced by the escaped user name. */
  userfilter: Type.String({ default: '(uid={username})' }),
  /** The attribute of a user entry that is the Berth user name. */
  uidattribute: Type.String({ default: 'uid', minLength: 1 }),
  groupbase: Type.Optional(Type.String({ minLength: 1 })),
  /** `{dn}` is the user's (or, nested, a group's) escaped DN, `{username}` the escaped user name. */
  groupfilter: Type.String({ default: '(member={dn})' }),
  /** An attribute of the user entry listing its groups' DNs (memberOf), read besides the group search. */
  memberattribute: Type.Optional(Type.String({ minLength: 1 })),
  /** Follow groups that are members of groups (the group filter asked again for each group found). */
  nestedgroups: Type.Boolean({ default: false }),
  groups: GroupRoles,
  /** Members of this group (DN) are system administrators. */
  admins: Type.Optional(Type.String({ minLength: 1 })),
  /** How long a successful sign-in (and a looked-up user) is trusted before the directory is asked again. */
  cache: millis('1m'),
  /** Connecting, and each LDAP operation. */
  timeout: millis('5s'),
}, { ...strict, ...notSecret('the LDAP section: a server, a service account and searches') });

export const OidcAuth = Type.Object({
  /** The provider's issuer URL; its /.well-known/openid-configuration is read. */
  issuer: Type.String({ minLength: 1 }),
  clientid: Type.String({ minLength: 1 }),
  clientsecret: Type.Optional(Type.String({ ...secret() })),
  clientsecretfile: Type.Optional(Type.String({ minLength: 1, ...secret('path') })),
  scopes: Type.Array(Type.String({ minLength: 1 }), { default: ['openid', 'profile', 'email'] }),
  /** The ID token (or userinfo) claim that is the Berth user name. */
  usernameclaim: Type.String({ default: 'preferred_username', minLength: 1 }),
  /** The claim listing the user's groups. */
  groupsclaim: Type.String({ default: 'groups', minLength: 1 }),
  groups: GroupRoles,
  /** Members of this group are system administrators. */
  admins: Type.Optional(Type.String({ minLength: 1 })),
  /** Only users whose verified email is in one of these domains may sign in (empty: any). */
  alloweddomains: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  /** The registry's external URL the provider redirects back to (default: http.host, else the request's host). */
  redirecturl: Type.Optional(Type.String({ minLength: 1 })),
  /** PEM file of CA(s) for the provider's TLS certificate, beside the system's. */
  ca: Type.Optional(Type.String({ minLength: 1 })),
  timeout: millis('10s'),
}, { ...strict, ...notSecret('the OpenID Connect section: a provider and a client') });

/** As loaded: durations in milliseconds. */
export type LdapConfig = StaticDecode<typeof LdapAuth>;
export type OidcConfig = StaticDecode<typeof OidcAuth>;
export type GroupRolesConfig = StaticDecode<typeof GroupRoles>;

/** What a schema cannot say about `auth.ldap` and `auth.oidc`. */
export function directoryConfigProblems(ldap: Pick<LdapConfig, 'bindpassword' | 'bindpasswordfile' | 'url' | 'starttls' | 'userfilter' | 'nestedgroups' | 'groups' | 'admins' | 'groupbase' | 'memberattribute'> | undefined, oidc: Pick<OidcConfig, 'clientsecret' | 'clientsecretfile' | 'issuer' | 'scopes'> | undefined): string[] {
  const problems: string[] = [];
  if (ldap) {
    if (ldap.bindpassword === undefined && ldap.bindpasswordfile === undefined) problems.push('auth.ldap: bindpassword or bindpasswordfile is required');
    if (ldap.bindpassword !== undefined && ldap.bindpasswordfile !== undefined) problems.push('auth.ldap: set one of bindpassword and bindpasswordfile, not both');
    const scheme = urlScheme(ldap.url);
    if (scheme !== 'ldap:' && scheme !== 'ldaps:') problems.push(`auth.ldap.url: "${ldap.url}" is not an ldap:// or ldaps:// URL`);
    if (scheme === 'ldaps:' && ldap.starttls) problems.push('auth.ldap.starttls: ldaps:// is TLS already; StartTLS is for ldap://');
    if (!ldap.userfilter.includes('{username}')) problems.push('auth.ldap.userfilter: must contain {username}');
    if ((ldap.nestedgroups || Object.keys(ldap.groups).length > 0 || ldap.admins) && !ldap.groupbase && !ldap.memberattribute) {
      problems.push('auth.ldap: groups and admins need groupbase (a group search) or memberattribute');
    }
  }
  if (oidc) {
    if (oidc.clientsecret !== undefined && oidc.clientsecretfile !== undefined) problems.push('auth.oidc: set one of clientsecret and clientsecretfile, not both');
    const scheme = urlScheme(oidc.issuer);
    if (scheme !== 'https:' && scheme !== 'http:') problems.push(`auth.oidc.issuer: "${oidc.issuer}" is not an http(s) URL`);
    if (!oidc.scopes.includes('openid')) problems.push('auth.oidc.scopes: must include openid');
  }
  return problems;
}

function urlScheme(text: string): string | undefined {
  try {
    return new URL(text).protocol;
  } catch {
    return undefined;
  }
}
