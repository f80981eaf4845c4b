// The HTTP side of authentication, plumbing only: every request's client address (trusted
// proxies) against the registry-wide allow-list, the audit of pushes, deletes and pulls once
// answered, and the gate of the registry API's routes: it reads the Authorization header and the
// route's declared action, asks access control (src/auth/access-control.ts) and writes its
// refusal (the spec's error with its challenge) or keeps the identity on the request.
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { RegistryError } from '../errors/index.js';
import type { AuthService } from '../auth/service.js';
import { AccessControl, type AccessRequest, type AlsoRequired } from '../auth/access-control.js';
import { credentialsOf } from '../auth/credentials.js';
import { ANONYMOUS, identityName, type Identity } from '../auth/identity.js';
import { appendAudit } from '../auth/audit.js';
import { targetOf, type RegistryApiTarget } from './request-target.js';
import { auditPull } from './pull-audit.js';
import { query } from './request-input.js';
import type { HttpSettings } from './settings.js';
import { csrfMatches, type ConsoleSession, type ConsoleSessions } from './console/sessions.js';
import { crossSiteReason } from '../auth/csrf.js';

export type { AlsoRequired };

export interface RequestAuth {
  identity: Identity;
  address: string;
  /** Set when the identity comes from a console session cookie (no Authorization header was sent). */
  session?: ConsoleSession;
}

const states = new WeakMap<FastifyRequest, RequestAuth>();
const judged = new WeakSet<FastifyRequest>();

/** Whether the gate has judged (and let through) this request. */
export function gateJudged(req: FastifyRequest): boolean {
  return judged.has(req);
}

export function requestAuth(req: FastifyRequest): RequestAuth | undefined {
  return states.get(req);
}

/** The identity of the request's console session, if it is made with one (admin and read APIs take it as signed in). */
export function sessionIdentity(req: FastifyRequest): Identity | undefined {
  const state = states.get(req);
  return state?.session ? state.identity : undefined;
}

/** Whether the request was let through without credentials (no auth, anonymous, or an anonymous token). */
export function answeredWithoutCredentials(req: FastifyRequest): boolean {
  const identity = states.get(req)?.identity;
  return identity === undefined || identity.kind === 'anonymous' || (identity.kind === 'token' && identity.name === '');
}

export interface AuthGate {
  /** The onRequest hook of the registry API's routes. */
  hook: onRequestAsyncHookHandler;
  /** The catalog's filter: only repositories the caller may pull from (undefined: no auth, all). */
  repositoryFilter(req: FastifyRequest): ((names: string[]) => Promise<string[]>) | undefined;
}

/** Installs the address check and the audit (every route) and returns the gate of the registry API. */
export function installAuth(app: FastifyInstance, auth: AuthService, settings: HttpSettings, alsoRequired?: AlsoRequired, sessions?: ConsoleSessions): AuthGate {
  const access = new AccessControl(auth, alsoRequired);
  app.addHook('onRequest', async (req) => {
    const address = auth.proxies.clientAddress(req.socket.remoteAddress, req.headers);
    if (!auth.allowFrom.allows(address)) {
      req.log.warn({ address, reason: 'address not allowed' }, 'access refused');
      throw new RegistryError('DENIED', 'your address may not reach this registry');
    }
    states.set(req, { identity: ANONYMOUS, address });
    // A browser of the console: its session cookie stands for the credentials (an explicit
    // Authorization header wins), and every change it makes must carry the session's token.
    const session = sessions && req.headers.authorization === undefined ? await sessions.resolve(req) : undefined;
    if (!session) return;
    if (!SAFE_METHODS.has(req.method)) {
      const forged = crossSiteReason(req, { host: settings.host, trusted: settings.corsOrigins }) ?? (csrfMatches(req, session) ? undefined : 'the console\'s anti-forgery token is missing or wrong');
      if (forged) {
        req.log.warn({ user: identityName(session.identity), address, reason: forged }, 'access refused');
        throw new RegistryError('DENIED', forged);
      }
    }
    states.set(req, { identity: session.identity, address, session });
    remember(req, session.identity, address);
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
  const hook: onRequestAsyncHookHandler = async (req) => {
    const api = targetOf(req).api;
    const state = states.get(req);
    if (!api || !state) throw new RegistryError('INTERNAL', { requestId: req.id, reason: 'the gate ran outside the registry API' });
    const request = accessRequest(req, api, state.address, auth, settings);
    const admission = state.session ? await access.admitIdentity(state.identity, request) : await access.admit(credentialsOf(req.headers.authorization), request);
    if (admission.identity) remember(req, admission.identity, state.address);
    if (!admission.ok) {
      const { refusal } = admission;
      if (refusal.log) req.log.warn(refusal.log, 'access refused');
      throw new RegistryError(refusal.code, refusal.detail, { headers: refusal.headers });
    }
    // Without a pull right on its source, a cross-repository mount becomes a plain upload.
    if (!admission.mount) {
      const q = req.query as Record<string, unknown>;
      delete q.mount;
      delete q.from;
    }
    judged.add(req);
  };
  return {
    hook,
    repositoryFilter: (req) => {
      const state = states.get(req);
      if (!state) return undefined;
      return (names) => access.visible(state.identity, names, state.address);
    },
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function remember(req: FastifyRequest, identity: Identity, address: string): void {
  states.set(req, { ...states.get(req), identity, address });
  // The access log and the notification events name the caller (src/http/observability.ts).
  if (identity.kind !== 'anonymous') (req as unknown as { berthUser?: string }).berthUser = identityName(identity);
}

function accessRequest(req: FastifyRequest, api: RegistryApiTarget, address: string, auth: AuthService, settings: HttpSettings): AccessRequest {
  const match = api.match;
  const action = match?.route.actions[req.method];
  const from = query(req, 'from');
  return {
    declared: match && action ? { action, repository: match.route.hasName ? match.name : undefined } : undefined,
    address,
    ns: query(req, 'ns'),
    mountFrom: req.method === 'POST' && query(req, 'mount') !== undefined ? from : undefined,
    tokenServer: tokenServer(auth, settings, req),
  };
}

/** This server's own /auth/token as the client reached it (a configured realm wins in the challenge). */
export function tokenServer(auth: AuthService, settings: HttpSettings, req: FastifyRequest): string {
  if (auth.realm) return auth.realm;
  if (settings.host) return `${settings.host}${settings.prefix}/auth/token`;
  return `${req.protocol}://${req.headers.host ?? req.hostname}${settings.prefix}/auth/token`;
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
