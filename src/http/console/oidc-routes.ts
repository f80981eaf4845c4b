// The console's OpenID Connect sign-in (`<ui.path>/auth/oidc/login` and `/callback`): the login
// route sends the browser to the provider with a fresh state, nonce and PKCE challenge, kept
// meanwhile in an HttpOnly cookie of this path only (SameSite=Lax: the provider's redirect back
// is a cross-site navigation, which Strict cookies would miss); the callback checks them, makes
// the provider's answer a user, records and audits it, and starts a console session. Refusals
// are audited as login.failed and answered in plain words, never with the provider's secrets.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { AuthService } from '../../auth/service.js';
import { appendAudit } from '../../auth/audit.js';
import type { OidcDirectory, OidcPending } from '../../auth/directories/oidc.js';
import { OidcRefusal } from '../../auth/directories/oidc-refusal.js';
import type { HttpSettings } from '../settings.js';
import type { ConsoleSessions } from './sessions.js';

const PENDING_COOKIE = 'berth_oidc';
/** A sign-in left at the provider longer than this must start again. */
const PENDING_SECONDS = 600;

export function oidcRoutes(app: FastifyInstance, auth: AuthService, oidc: OidcDirectory, sessions: ConsoleSessions, settings: HttpSettings, root: string): void {
  const cookiePath = `${root}/auth/oidc`;
  const secure = (req: FastifyRequest) => req.protocol === 'https' || settings.host.startsWith('https:');
  const setPending = (req: FastifyRequest, reply: FastifyReply, value: string, maxAge: number) => reply.header('Set-Cookie', stringifySetCookie({
    name: PENDING_COOKIE, value, httpOnly: true, sameSite: 'lax', secure: secure(req), path: cookiePath, maxAge,
  }));
  const callbackUrl = (req: FastifyRequest) => oidc.redirectUrl ?? `${settings.host || `${req.protocol}://${req.host}`}${cookiePath}/callback`;
  const address = (req: FastifyRequest) => auth.proxies.clientAddress(req.socket.remoteAddress, req.headers);

  app.get('/auth/oidc/login', async (req, reply) => {
    let started;
    try {
      started = await oidc.start(callbackUrl(req));
    } catch (err) {
      req.log.error({ err }, 'OpenID Connect sign-in cannot start');
      return plain(reply, 503, 'the OpenID Connect provider cannot be reached; try again later');
    }
    setPending(req, reply, Buffer.from(JSON.stringify(started.pending)).toString('base64url'), PENDING_SECONDS);
    return reply.header('Cache-Control', 'no-store').redirect(started.url, 302);
  });

  app.get('/auth/oidc/callback', async (req, reply) => {
    const pending = pendingOf(req);
    setPending(req, reply, '', 0);
    const refuse = async (status: number, reason: string, told: string) => {
      req.log.warn({ address: address(req), reason }, 'OpenID Connect sign-in refused');
      await appendAudit(auth.meta.db, { actor: '-', address: address(req), action: 'login.failed', target: '-', detail: { source: 'oidc', reason } })
        .catch((err: unknown) => req.log.error({ err }, 'audit record lost'));
      return plain(reply, status, told);
    };
    if (!pending) return refuse(400, 'no sign-in in progress (cookie missing or expired)', 'no sign-in is in progress here: start again from the console');
    const query = req.query as Record<string, unknown>;
    if (typeof query.error === 'string') return refuse(401, `the provider answered ${query.error}`, `the provider refused the sign-in (${query.error})`);
    let identity;
    try {
      // Counted like a password: a stream of forged or refused callbacks from one address is
      // throttled. The user is not known before the provider's answer is checked.
      const attempt = await auth.signIn.attempt(OIDC_LIMIT_USER, address(req), () => oidc.finish(new URL(`${pending.redirect}${req.url.slice(req.url.indexOf('?'))}`), pending));
      if (!attempt.ok) {
        reply.header('Retry-After', String(attempt.retryAfter));
        return plain(reply, 429, `too many failed sign-ins from this address: try again in ${attempt.retryAfter} s`);
      }
      identity = attempt.value;
    } catch (err) {
      if (err instanceof OidcRefusal) return refuse(403, err.message, 'this account may not sign in here');
      return refuse(401, (err as Error).message, 'the sign-in could not be verified: start again from the console');
    }
    await auth.externalUsers.record(identity);
    await appendAudit(auth.meta.db, { actor: identity.name, address: address(req), action: 'login', target: identity.name, detail: { source: 'oidc', admin: identity.admin, roles: identity.roles } });
    await sessions.start(reply, identity);
    await appendAudit(auth.meta.db, { actor: identity.name, address: address(req), action: 'console.login', target: identity.name, detail: { kind: 'user', source: 'oidc' } });
    return reply.header('Cache-Control', 'no-store').redirect(`${root}/`, 303);
  });
}

/** The limiter's user for OpenID Connect callbacks: a Basic user name cannot hold a colon, so no password user shares its counter. */
const OIDC_LIMIT_USER = 'oidc:callback';

function pendingOf(req: FastifyRequest): OidcPending | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  const value = parseCookie(header)[PENDING_COOKIE];
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<OidcPending>;
    const { state, nonce, verifier, redirect } = parsed;
    if (typeof state !== 'string' || typeof nonce !== 'string' || typeof verifier !== 'string' || typeof redirect !== 'string') return undefined;
    return { state, nonce, verifier, redirect };
  } catch {
    return undefined;
  }
}

function plain(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(`${text}\n`);
}
