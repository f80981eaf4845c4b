// Personal access tokens over HTTP: each user lists, creates and revokes its own under
// `/api/v1/user/tokens` (signed in with its password or its console session, the way OpenID
// Connect users who have no password here make theirs; never with a token: a token cannot mint
// tokens), and system administrators list and revoke anyone's under `/api/v1/tokens`. The
// token's text is in the creation answer only. Creation and revocation go to the audit log.
// A Fastify plugin: the app registers it (app.ts) under `<prefix>/api/v1` beside the admin API.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/service.js';
import { AccessStoreError } from '../auth/access-store.js';
import { parseScopeText } from '../auth/access-tokens.js';
import { appendAudit } from '../auth/audit.js';
import { credentialsOf } from '../auth/credentials.js';
import { sessionIdentity } from './auth-hook.js';
import type { TokenScope, UserIdentity } from '../auth/identity.js';
import { crossSiteReason, isJsonBody } from '../auth/csrf.js';
import { parseDuration } from '../config/duration.js';
import { AdminApiError, adminErrorBody, requiredString, type AdminBody } from './admin-types.js';
import { readJson } from './admin-api.js';
import type { HttpSettings } from './settings.js';

export interface AccessTokenApiOptions { auth: AuthService; settings: HttpSettings }

type Handler = (call: { req: FastifyRequest; body: AdminBody; user: UserIdentity; address: string }) => Promise<{ status: number; body?: unknown; audit?: { action: string; target: string; detail?: Record<string, unknown> } }>;

export const accessTokenApi: FastifyPluginAsync<AccessTokenApiOptions> = async (app, { auth, settings }) => {
  const tokens = auth.tokens;
  const routes: Array<[string, string, boolean, Handler]> = [
    ['GET', '/user/tokens', false, async ({ user }) => ({ status: 200, body: await tokens.list(user.name) })],
    ['POST', '/user/tokens', false, async ({ body, user }) => {
      const { token, text } = await tokens.create(user.name, requiredString(body, 'name'), scopesOf(body.scopes), expiryOf(body));
      return { status: 201, body: { ...token, token: text }, audit: { action: 'token.create', target: `${user.name}/${token.name}`, detail: { id: token.id, scopes: token.scopes, expiresAt: token.expiresAt } } };
    }],
    ['DELETE', '/user/tokens/:id', false, async ({ req, user }) => {
      const token = await tokens.revoke((req.params as { id: string }).id, user.name);
      return { status: 204, audit: { action: 'token.revoke', target: `${token.owner}/${token.name}`, detail: { id: token.id } } };
    }],
    ['GET', '/tokens', true, async ({ req }) => {
      const owner = (req.query as Record<string, string | undefined>).owner;
      if (!owner) throw new AdminApiError('INVALID', 'the owner query parameter names whose tokens to list');
      return { status: 200, body: await tokens.list(owner) };
    }],
    ['DELETE', '/tokens/:id', true, async ({ req }) => {
      const token = await tokens.revoke((req.params as { id: string }).id, undefined);
      return { status: 204, audit: { action: 'token.revoke', target: `${token.owner}/${token.name}`, detail: { id: token.id } } };
    }],
  ];
  for (const [method, url, adminOnly, handler] of routes) {
    app.route({ method, url, handler: async (req, reply) => run(auth, settings, req, reply, adminOnly, handler) });
  }
};

async function run(auth: AuthService, settings: HttpSettings, req: FastifyRequest, reply: FastifyReply, adminOnly: boolean, handler: Handler): Promise<FastifyReply> {
  const address = auth.proxies.clientAddress(req.socket.remoteAddress, req.headers);
  try {
    const forged = crossSiteReason(req, { host: settings.host, trusted: settings.corsOrigins });
    if (forged) throw new AdminApiError('DENIED', forged);
    if (!isJsonBody(req)) throw new AdminApiError('UNSUPPORTED_MEDIA_TYPE', 'the body must be sent as Content-Type: application/json');
    const user = await signedIn(auth, req, address);
    if (adminOnly && !user.admin) throw new AdminApiError('DENIED', 'only system administrators may manage other users\' tokens');
    const body = req.method === 'POST' ? await readJson(req) : {};
    const result = await handler({ req, body, user, address });
    if (result.audit) await appendAudit(auth.meta.db, { actor: user.name, address, ...result.audit });
    reply.code(result.status).header('Cache-Control', 'no-store');
    return result.body === undefined ? reply.send() : reply.type('application/json').send(JSON.stringify(result.body));
  } catch (err) {
    const refusal = err instanceof AccessStoreError ? AdminApiError.fromStore(err) : err;
    if (!(refusal instanceof AdminApiError)) throw err;
    if (refusal.status !== 400 && refusal.status !== 404) req.log.warn({ address, action: `${req.method} ${req.url.split('?')[0]}`, reason: refusal.message }, 'access refused');
    if (refusal.status === 401) reply.header('WWW-Authenticate', 'Basic realm="berth"');
    return reply.code(refusal.status).type('application/json').send(adminErrorBody(refusal));
  }
}

/** The user the request's Basic credentials prove (a password sign-in of a database or directory user), or its console session. */
async function signedIn(auth: AuthService, req: FastifyRequest, address: string): Promise<UserIdentity> {
  // A console session (its anti-forgery token checked by the auth hook): how OpenID Connect users, who have no password here, make tokens.
  const session = sessionIdentity(req);
  if (session) {
    if (session.kind !== 'user') throw new AdminApiError('DENIED', 'personal access tokens are managed by users, not by a token or robot');
    return session;
  }
  const basic = credentialsOf(req.headers.authorization);
  if (basic?.kind !== 'basic') throw new AdminApiError('UNAUTHORIZED', 'sign in with your user name and password');
  const result = await auth.signIn.check(basic, address);
  if (!result.ok) throw 'retryAfter' in result ? new AdminApiError('TOOMANYREQUESTS', 'too many failed logins') : new AdminApiError('UNAUTHORIZED', 'invalid credentials');
  if (result.identity.kind !== 'user') throw new AdminApiError('DENIED', 'personal access tokens are managed with a user\'s password, not with a token or robot');
  return result.identity;
}

function scopesOf(value: unknown): TokenScope[] {
  if (!Array.isArray(value)) throw new AdminApiError('INVALID', 'scopes must be a list such as ["team:pull,push"] or [{"project":"team","actions":["pull"]}]');
  return value.map((s: unknown) => {
    if (typeof s === 'string') return parseScopeText(s);
    const entry = s as { project?: unknown; actions?: unknown };
    if (typeof entry?.project !== 'string' || !Array.isArray(entry.actions) || !entry.actions.every((a) => typeof a === 'string')) {
      throw new AdminApiError('INVALID', 'each scope is "project:actions" or { project, actions }');
    }
    return { project: entry.project, actions: entry.actions as string[] };
  });
}

/** `expiresAt` (a date) or `expiresIn` (a duration such as 720h); neither: no expiry. */
function expiryOf(body: AdminBody): Date | null {
  if (typeof body.expiresIn === 'string') {
    let ms: number;
    try {
      ms = parseDuration(body.expiresIn);
    } catch {
      throw new AdminApiError('INVALID', `expiresIn "${body.expiresIn}" is not a duration such as 720h`);
    }
    return new Date(Date.now() + ms);
  }
  if (typeof body.expiresAt === 'string') {
    const at = new Date(body.expiresAt);
    if (Number.isNaN(at.getTime())) throw new AdminApiError('INVALID', 'expiresAt is not a date');
    return at;
  }
  return null;
}
