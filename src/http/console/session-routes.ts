// The console's sign-in, session and sign-out (`<ui.path>/auth/session`). A password sign-in goes
// through the registry's one SignIn, so the same failed-login limiter counts it and a refusal is
// audited as `login.failed` wherever it happened; a session's start and end are audited too.
// With authentication off there is nobody to sign in: the page browses the open registry.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../errors/index.js';
import { isValidName } from '../../oci/reference.js';
import type { AuthService } from '../../auth/service.js';
import { appendAudit } from '../../auth/audit.js';
import { crossSiteReason, isJsonBody } from '../../auth/csrf.js';
import { ANONYMOUS, identityName, type Identity } from '../../auth/identity.js';
import { requestAuth, sessionIdentity } from '../auth-hook.js';
import type { HttpSettings } from '../settings.js';
import type { ConsoleSession, ConsoleSessions } from './sessions.js';

const BODY_LIMIT = 8 * 1024;

/** What the page is told about the caller (never a secret but the session's own anti-forgery token). */
export interface SessionView {
  mode: 'basic' | 'token' | 'open';
  /** Where the page can send the browser to sign in with OpenID Connect (auth.oidc), if configured. */
  oidcLogin?: string;
  identity: { kind: Identity['kind']; name: string; admin: boolean } | null;
  csrf?: string;
  expiresAt?: number;
  idleUntil?: number;
  deleteEnabled: boolean;
  readOnly: boolean;
}

export function sessionRoutes(app: FastifyInstance, auth: AuthService | undefined, sessions: ConsoleSessions | undefined, settings: HttpSettings, oidcLoginPath = ''): void {
  const view = (identity: Identity, session?: ConsoleSession): SessionView => ({
    mode: auth?.mode ?? 'open',
    ...(auth?.directories.oidc ? { oidcLogin: oidcLoginPath } : {}),
    identity: identity.kind === 'anonymous' ? null : { kind: identity.kind, name: identityName(identity), admin: isAdmin(identity) },
    ...(session ? { csrf: session.csrf, expiresAt: session.expiresAt, idleUntil: session.idleUntil } : {}),
    deleteEnabled: settings.deleteEnabled,
    readOnly: settings.readOnly,
  });
  const send = (reply: FastifyReply, status: number, body: SessionView) =>
    reply.code(status).header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(body));

  app.get('/auth/session', async (req, reply) => {
    const session = requestAuth(req)?.session;
    return send(reply, 200, view(session?.identity ?? ANONYMOUS, session));
  });

  // What the caller may do to one repository, so the page offers only what the registry allows
  // (the registry still judges each request itself).
  app.get('/auth/access', async (req, reply) => {
    const name = (req.query as Record<string, unknown>).repository;
    if (typeof name !== 'string' || !isValidName(name)) throw new RegistryError('NAME_INVALID', { name });
    const wanted = ['pull', 'push', 'delete'];
    let actions = wanted;
    if (auth) {
      const state = requestAuth(req);
      const granted = await auth.authorizer.grant(state?.identity ?? ANONYMOUS, [{ type: 'repository', name, actions: wanted }], state?.address ?? req.ip);
      actions = granted[0]?.actions ?? [];
    }
    if (!settings.deleteEnabled || settings.readOnly) actions = actions.filter((a) => a !== 'delete' && (a !== 'push' || !settings.readOnly));
    return reply.header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify({ repository: name, actions }));
  });

  app.post('/auth/session', async (req, reply) => {
    if (!auth || !sessions) throw new RegistryError('UNSUPPORTED', 'authentication is off: there is nothing to sign in to');
    const address = requestAuth(req)?.address ?? req.ip;
    const forged = crossSiteReason(req, { host: settings.host, trusted: settings.corsOrigins });
    if (forged) throw new RegistryError('DENIED', forged);
    if (!isJsonBody(req)) throw new RegistryError('UNSUPPORTED_MEDIA_TYPE', 'the body must be sent as Content-Type: application/json');
    const { user, password } = await readCredentials(req);
    const result = await auth.signIn.password(user, password, address);
    if (!result.ok) {
      req.log.warn({ user, address, reason: result.reason }, 'console sign-in refused');
      if ('retryAfter' in result) throw new RegistryError('TOOMANYREQUESTS', 'too many failed sign-ins; try again later', { headers: { 'Retry-After': String(result.retryAfter) } });
      // Never which of the two was wrong, and no challenge: the page asks, not the browser.
      throw new RegistryError('UNAUTHORIZED', 'wrong user name or password');
    }
    const session = await sessions.start(reply, result.identity, result.hash);
    await appendAudit(auth.meta.db, { actor: identityName(result.identity), address, action: 'console.login', target: identityName(result.identity), detail: { kind: result.identity.kind } });
    return send(reply, 201, view(result.identity, session));
  });

  app.delete('/auth/session', async (req, reply) => {
    if (!auth || !sessions) throw new RegistryError('UNSUPPORTED', 'authentication is off: there is nothing to sign out of');
    // The auth hook has checked the anti-forgery token of a live session already.
    const identity = sessionIdentity(req);
    await sessions.end(req, reply);
    if (identity) {
      const address = requestAuth(req)?.address ?? req.ip;
      await appendAudit(auth.meta.db, { actor: identityName(identity), address, action: 'console.logout', target: identityName(identity) });
    }
    return reply.code(204).header('Cache-Control', 'no-store').send();
  });
}

/** A system administrator, as the admin API judges it (htpasswd users have every repository, not the admin API). */
function isAdmin(identity: Identity): boolean {
  return identity.kind === 'user' && identity.admin;
}

async function readCredentials(req: FastifyRequest): Promise<{ user: string; password: string }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req.raw) {
    total += (chunk as Buffer).length;
    if (total > BODY_LIMIT) throw new RegistryError('SIZE_INVALID', 'body too large', { status: 413 });
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RegistryError('INVALID', 'the body must be a JSON object');
  }
  const { user, password } = (parsed ?? {}) as { user?: unknown; password?: unknown };
  if (typeof user !== 'string' || user === '' || typeof password !== 'string' || password === '') {
    throw new RegistryError('INVALID', '"user" and "password" must be non-empty strings');
  }
  return { user, password };
}
