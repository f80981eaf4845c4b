// What a client presents to prove who it is, read once from the Authorization header, so that the
// registry API, the token server and the admin API read credentials the same way and every
// authenticator receives them already decoded.
export type Credentials =
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'bearer'; token: string };

/** `user:password` of a Basic value (base64), or undefined when it has no colon. */
export function decodeBasic(value: string): { user: string; password: string } | undefined {
  const text = Buffer.from(value.trim(), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The credentials of an Authorization header (the scheme in any case, as RFC 7235 says), or
 * undefined when there are none. Clients without credentials send `Basic Og==` (":"): that is no
 * login, not a failed one.
 */
export function credentialsOf(header: string | undefined): Credentials | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme !== 'basic') return undefined;
  const basic = decodeBasic(value);
  if (!basic || (basic.user === '' && basic.password === '')) return undefined;
  return { kind: 'basic', ...basic };
}

/** Who the credentials claim to be, for logs and the audit log (never the secret). */
export function claimedName(credentials: Credentials | undefined): string {
  return credentials?.kind === 'basic' ? credentials.user : '-';
}
