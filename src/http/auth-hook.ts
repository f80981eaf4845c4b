// The registry's gate: for every request, the client address (trusted proxies), the registry-wide
// allow-list, the credentials (Basic or Bearer), then the authorizer against the actions the route
// table declares. Refusals answer the spec's error with the challenge clients expect and are
// logged with user, address, repository and action; pushes and deletes go to the audit log.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { RegistryError } from '../errors/index.js';
import type { AuthService } from '../auth/service.js';
import { ANONYMOUS, identityName, type Identity } from '../auth/identity.js';
import { covers, formatScope, type Access } from '../auth/scope.js';
import { appendAudit } from '../auth/audit.js';
import { targetOf, type RegistryApiTarget } from './request-target.js';
import { auditPull } from './pull-audit.js';
import { currentSubject, revokedReason } from '../auth/token/revocation.js';
import { isValidName } from '../oci/reference.js';
import type { HttpSettings } from './settings.js';
import { installTokenRoutes } from './token-routes.js';
import { installAdminApi } from './admin-api.js';
import type { Registry } from '../registry/registry.js';

export interface RequestAuth { identity: Identity; address: string }

/**
 * Other repositories a pull of `name` (with containerd's `?ns=`) reads, that the caller needs
 * pull rights on as well: a feature serving a name from another stored one (the pull-through
 * cache) passes it, so access control sees the name the data really lives under.
 */
export type AlsoRequired = (name: string, ns: string | undefined) => Promise<string[]>;

const states = new WeakMap<FastifyRequest, RequestAuth>();
const judged = new WeakSet<FastifyRequest>();

/** Whether the gate has judged (and let through) this request. */
export function gateJudged(req: FastifyRequest): boolean {
  return judged.has(req);
}

export function requestAuth(req: FastifyRequest): RequestAuth | undefined {
  return states.get(req);
}

/** Whether the request was let through without credentials (no auth, anonymous, or an anonymous token). */
export function answeredWithoutCredentials(req: FastifyRequest): boolean {
  const identity = states.get(req)?.identity;
  return identity === undefined || identity.kind === 'anonymous' || (identity.kind === 'token' && identity.name === '');
}

/** The catalog's filter: only repositories the caller may pull from (undefined: no auth, all). */
export function repositoryFilter(auth: AuthService | undefined, req: FastifyRequest): ((names: string[]) => Promise<string[]>) | undefined {
  const state = states.get(req);
  if (!auth || !state) return undefined;
  return async (names) => {
    const identity = await subjectIdentity(auth, state.identity);
    return identity ? auth.authorizer.visible(identity, names, state.address) : names;
  };
}

/**
 * Installs the address check (every route), the audit of pushes and deletes, the token server
 * and the admin API, and returns the gate: the onRequest hook of the registry API's routes.
 */
export async function installAuth(app: FastifyInstance, auth: AuthService, settings: HttpSettings, registry: Registry, gcGraceMs: number, alsoRequired?: AlsoRequired): Promise<onRequestAsyncHookHandler> {
  app.addHook('onRequest', async (req) => {
    const address = auth.proxies.clientAddress(req.socket.remoteAddress, req.headers);
    if (!auth.allowFrom.allows(address)) {
      req.log.warn({ address, reason: 'address not allowed' }, 'access refused');
      throw new RegistryError('DENIED', 'your address may not reach this registry');
    }
    states.set(req, { identity: ANONYMOUS, address });
  });
  app.addHook('onResponse', async (req, reply) => {
    const state = states.get(req);
    if (!state) return;
    if (auth.pulls) auditPull(auth.pulls, req, reply.statusCode, identityName(state.identity), state.address);
    const record = auditable(req, reply.statusCode);
    if (!record) return;
    await appendAudit(auth.meta.db, { actor: identityName(state.identity), address: state.address, ...record })
      .catch((err: unknown) => req.log.error({ err }, 'audit record lost'));
  });
  installTokenRoutes(app, auth, settings);
  await installAdminApi(app, auth, settings, registry, gcGraceMs);
  return async (req, reply) => {
    const api = targetOf(req).api;
    const state = states.get(req);
    if (!api || !state) throw new RegistryError('INTERNAL', { requestId: req.id, reason: 'the gate ran outside the registry API' });
    await gate(auth, settings, req, reply, state.address, api, alsoRequired);
    judged.add(req);
  };
}

async function gate(auth: AuthService, settings: HttpSettings, req: FastifyRequest, reply: FastifyReply, address: string, api: RegistryApiTarget, alsoRequired: AlsoRequired | undefined): Promise<void> {
  void reply;
  if (auth.mode === 'open') return;
  const required = requiredAccess(req.method, api);
  const identity = await authenticate(auth, settings, req, address, required);
  states.set(req, { identity, address });
  // The access log and the notification events name the caller (src/http/observability.ts).
  if (identity.kind !== 'anonymous') (req as unknown as { berthUser?: string }).berthUser = identityName(identity);
  if (required.length === 0) {
    if (identity.kind === 'anonymous') throw unauthorized(auth, settings, req, [], 'authentication required');
    return;
  }
  const granted = await auth.authorizer.grant(identity, required, address);
  if (!covers(granted, required)) {
    const what = required.map(formatScope).join(' ');
    req.log.warn({ user: identityName(identity), address, repository: required[0]?.name, action: required[0]?.actions.join(','), reason: 'not permitted' }, 'access refused');
    if (auth.mode === 'token') throw unauthorized(auth, settings, req, required, `insufficient scope for ${what}`, 'insufficient_scope');
    if (identity.kind === 'anonymous') throw unauthorized(auth, settings, req, required, 'authentication required');
    throw new RegistryError('DENIED', required.map((r) => ({ Type: r.type, Name: r.name, Action: r.actions.join(',') })));
  }
  await gateStored(auth, settings, req, identity, address, required, alsoRequired);
  // A cross-repository mount also reads the source (and the repository it is stored in); without
  // that right it becomes a plain upload.
  const from = query(req, 'from');
  if (req.method === 'POST' && query(req, 'mount') !== undefined && from !== undefined) {
    const source: Access[] = [{ type: 'repository', name: from, actions: ['pull'] }];
    const stored = alsoRequired && isValidName(from) ? await alsoRequired(from, query(req, 'ns')) : [];
    const also: Access[] = stored.map((name) => ({ type: 'repository', name, actions: ['pull'] }));
    if (!covers(await auth.authorizer.grant(identity, source, address), source) || (also.length > 0 && !(await storedGranted(auth, identity, also, address)))) {
      const q = req.query as Record<string, unknown>;
      delete q.mount;
      delete q.from;
    }
  }
}

/** Pull rights on the repositories a pull really reads (`alsoRequired`), judged by `storedGranted`. */
async function gateStored(auth: AuthService, settings: HttpSettings, req: FastifyRequest, identity: Identity, address: string, required: Access[], alsoRequired: AlsoRequired | undefined): Promise<void> {
  const first = required[0];
  if (!alsoRequired || first?.type !== 'repository' || first.actions[0] !== 'pull') return;
  const names = await alsoRequired(first.name, query(req, 'ns'));
  if (names.length === 0) return;
  const also: Access[] = names.map((name) => ({ type: 'repository', name, actions: ['pull'] }));
  if (await storedGranted(auth, identity, also, address)) return;
  req.log.warn({ user: identityName(identity), address, repository: first.name, stored: names.join(','), action: 'pull', reason: 'not permitted on the stored repository' }, 'access refused');
  // A token client asks again with both scopes: an external token server may grant the stored one.
  const both = [...required, ...also];
  if (auth.mode === 'token') throw unauthorized(auth, settings, req, both, `insufficient scope for ${also.map(formatScope).join(' ')}`, 'insufficient_scope');
  if (identity.kind === 'anonymous') throw unauthorized(auth, settings, req, both, 'authentication required');
  throw new RegistryError('DENIED', also.map((r) => ({ Type: r.type, Name: r.name, Action: 'pull' })));
}

/**
 * Whether `identity` may pull the stored repositories. A token grants them when its claims do;
 * else a built-in token stands for its subject, judged by that user's or robot's roles now
 * (clients ask for the requested name only). An external token server's view of the stored
 * names is unknown, so its tokens must name them.
 */
async function storedGranted(auth: AuthService, identity: Identity, also: Access[], address: string): Promise<boolean> {
  if (covers(await auth.authorizer.grant(identity, also, address), also)) return true;
  if (identity.kind !== 'token') return false;
  const subject = await subjectIdentity(auth, identity);
  if (!subject || subject.kind === 'token') return false;
  return covers(await auth.authorizer.grant(subject, also, address), also);
}

function requiredAccess(method: string, api: RegistryApiTarget): Access[] {
  const match = api.match;
  const action = match?.route.actions[method];
  if (!match || !action) return [];
  if (!match.route.hasName) return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  return [{ type: 'repository', name: match.name, actions: [action] }];
}

async function authenticate(auth: AuthService, settings: HttpSettings, req: FastifyRequest, address: string, required: Access[]): Promise<Identity> {
  const header = req.headers.authorization ?? '';
  const [scheme, value = ''] = header.split(' ', 2) as [string, string | undefined];
  if (auth.mode === 'token') {
    if (scheme.toLowerCase() !== 'bearer' || !auth.verifier) throw unauthorized(auth, settings, req, required, 'a bearer token is required');
    const result = await auth.verifier.verify(value.trim());
    if (!result.ok) {
      req.log.warn({ user: '-', address, repository: required[0]?.name, action: required[0]?.actions.join(','), reason: result.reason }, 'access refused');
      throw unauthorized(auth, settings, req, required, result.reason, 'invalid_token');
    }
    const revoked = await revokedReason(auth, result);
    if (revoked) {
      req.log.warn({ user: result.subject, address, repository: required[0]?.name, action: required[0]?.actions.join(','), reason: revoked }, 'access refused');
      throw unauthorized(auth, settings, req, required, revoked, 'invalid_token');
    }
    return { kind: 'token', name: result.subject, issuer: result.issuer, access: result.access };
  }
  if (scheme.toLowerCase() !== 'basic') return ANONYMOUS;
  const basic = decodeBasic(value);
  // Clients without credentials send `Basic Og==` (":"): that is no login, not a failed one.
  if (!basic || (basic.user === '' && basic.password === '')) return ANONYMOUS;
  const result = await auth.checker.check(basic.user, basic.password, address);
  if (result.ok) return result.identity;
  req.log.warn({ user: basic.user, address, repository: required[0]?.name, action: required[0]?.actions.join(','), reason: result.reason }, 'access refused');
  if (result.reason === 'rate-limited') {
    throw new RegistryError('TOOMANYREQUESTS', 'too many failed logins; try again later', { headers: { 'Retry-After': String(result.retryAfter) } });
  }
  throw unauthorized(auth, settings, req, required, result.reason === 'expired' ? 'credentials expired' : 'invalid credentials');
}

export function decodeBasic(value: string): { user: string; password: string } | undefined {
  const text = Buffer.from(value.trim(), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function unauthorized(auth: AuthService, settings: HttpSettings, req: FastifyRequest, required: Access[], detail: string, error?: string): RegistryError {
  return new RegistryError('UNAUTHORIZED', detail, { headers: { 'WWW-Authenticate': challenge(auth, settings, req, required, error) } });
}

export function challenge(auth: AuthService, settings: HttpSettings, req: FastifyRequest, required: Access[], error?: string): string {
  if (auth.mode !== 'token') return `Basic realm=${quote(auth.realm)}`;
  const parts = [`Bearer realm=${quote(tokenRealm(auth, settings, req))}`, `service=${quote(auth.service)}`];
  if (required.length > 0) parts.push(`scope=${quote(required.map(formatScope).join(' '))}`);
  if (error) parts.push(`error=${quote(error)}`);
  return parts.join(',');
}

/** The configured realm, or this server's own /auth/token as the client reached it. */
export function tokenRealm(auth: AuthService, settings: HttpSettings, req: FastifyRequest): string {
  if (auth.realm) return auth.realm;
  if (settings.host) return `${settings.host}${settings.prefix}/auth/token`;
  return `${req.protocol}://${req.headers.host ?? req.hostname}${settings.prefix}/auth/token`;
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

function query(req: FastifyRequest, key: string): string | undefined {
  const v = (req.query as Record<string, string | string[] | undefined>)[key];
  return Array.isArray(v) ? v[0] : v;
}

/** A token's subject as the identity it stands for, for built-in tokens; undefined for external ones (they see all). */
async function subjectIdentity(auth: AuthService, identity: Identity): Promise<Identity | undefined> {
  if (identity.kind !== 'token') return identity;
  if (!auth.issuer || identity.issuer !== auth.issuer.options.issuer) return undefined;
  return (await identityForSubject(auth, identity.name)) ?? ANONYMOUS;
}

/** The identity a built-in token or refresh token subject names now, if it still exists. */
export async function identityForSubject(auth: AuthService, subject: string): Promise<Identity | undefined> {
  return (await currentSubject(auth.store, auth.stamps, subject))?.identity;
}

function auditable(req: FastifyRequest, status: number): { action: string; target: string } | undefined {
  if (req.method !== 'PUT' && req.method !== 'DELETE') return undefined;
  let match;
  try {
    match = targetOf(req).api?.match;
  } catch {
    return undefined;
  }
  if (!match || (match.route.name !== 'manifest' && match.route.name !== 'blob')) return undefined;
  const separator = match.param.includes(':') ? '@' : ':';
  if (req.method === 'PUT' && status === 201 && match.route.name === 'manifest') return { action: 'push', target: `${match.name}${separator}${match.param}` };
  if (req.method === 'DELETE' && status === 202) return { action: 'delete', target: `${match.name}${separator}${match.param}` };
  return undefined;
}
