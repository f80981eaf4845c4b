// The JSON admin API under /api/v1/: users, projects and members, robot accounts, the audit
// log. Only system administrators (Basic credentials of a database user with `admin`) get in;
// every change is written to the audit log. Robot secrets are returned once, on creation.
// A Fastify plugin: the app registers it (app.ts) under `<prefix>/api/v1`.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/service.js';
import { AccessStoreError, type RobotPermission } from '../auth/access-store.js';
import { appendAudit, readAudit } from '../auth/audit.js';
import { generateSecret } from '../auth/passwords.js';
import { isRole } from '../auth/roles.js';
import { isCidr } from '../config/sections/auth.js';
import type { HttpSettings } from './settings.js';
import { credentialsOf } from '../auth/credentials.js';
import { AdminApiError, adminErrorBody, requiredString as str, type AdminAction, type AdminBody } from './admin-types.js';
import { crossSiteReason, isJsonBody, type OriginPolicy } from '../auth/csrf.js';
import { operationRoutes } from './admin-operations.js';
import { replicationRoutes } from './replication-routes.js';
import type { ReplicationService } from '../replication/service.js';
import { sessionIdentity } from './auth-hook.js';
import { identityName, type Identity } from '../auth/identity.js';
import type { Registry } from '../registry/registry.js';
import type { TrustService } from '../trust/trust-service.js';
import { trustRoutes } from './trust-routes.js';

type Body = AdminBody;
type Action = AdminAction;
const ApiError = AdminApiError;

const BODY_LIMIT = 64 * 1024;

export interface AdminApiOptions { auth: AuthService; settings: HttpSettings; registry: Registry; gcGraceMs: number; tagRestoreMs?: number; replication?: ReplicationService | undefined; trust?: TrustService | undefined; loadTrust?: (() => Promise<TrustService>) | undefined }

export const adminApi: FastifyPluginAsync<AdminApiOptions> = async (app, { auth, settings, registry, gcGraceMs, tagRestoreMs, replication, trust, loadTrust }) => {
  const s = auth.store;
  const routes: Array<[string, string, Action]> = [
    ['GET', '/users', async () => ({ status: 200, body: await s.users() })],
    ['POST', '/users', async ({ body }) => {
      const user = await s.addUser(str(body, 'name'), str(body, 'password'), body.admin === true);
      return { status: 201, body: user, audit: { action: 'user.add', target: user.name, detail: { admin: user.admin } } };
    }],
    ['PUT', '/users/:name/password', async ({ body, params }) => {
      await s.setPassword(params.name!, str(body, 'password'));
      return { status: 204, audit: { action: 'user.passwd', target: params.name! } };
    }],
    ['DELETE', '/users/:name', async ({ params }) => {
      await s.removeUser(params.name!);
      return { status: 204, audit: { action: 'user.rm', target: params.name! } };
    }],
    ['GET', '/projects', async () => ({ status: 200, body: await s.projects() })],
    ['POST', '/projects', async ({ body }) => {
      const project = await s.addProject(str(body, 'name'), { public: body.public === true, allowFrom: cidrs(body.allowFrom) });
      return { status: 201, body: project, audit: { action: 'project.add', target: project.name, detail: { public: project.public } } };
    }],
    ['PATCH', '/projects/:name', async ({ body, params }) => {
      const changes = { ...(typeof body.public === 'boolean' ? { public: body.public } : {}), ...(body.allowFrom !== undefined ? { allowFrom: cidrs(body.allowFrom) } : {}) };
      await s.setProject(params.name!, changes);
      return { status: 200, body: await s.project(params.name!), audit: { action: 'project.set', target: params.name!, detail: changes } };
    }],
    ['DELETE', '/projects/:name', async ({ params }) => {
      await s.removeProject(params.name!);
      return { status: 204, audit: { action: 'project.rm', target: params.name! } };
    }],
    ['GET', '/projects/:name/members', async ({ params }) => ({ status: 200, body: await s.members(params.name!) })],
    ['PUT', '/projects/:name/members/:user', async ({ body, params }) => {
      const role = str(body, 'role');
      if (!isRole(role)) throw new ApiError('INVALID', 'role must be guest, developer, maintainer or admin');
      await s.setMember(params.name!, params.user!, role);
      return { status: 204, audit: { action: 'project.member', target: `${params.name!}/${params.user!}`, detail: { role } } };
    }],
    ['DELETE', '/projects/:name/members/:user', async ({ params }) => {
      await s.setMember(params.name!, params.user!, null);
      return { status: 204, audit: { action: 'project.member', target: `${params.name!}/${params.user!}`, detail: { role: null } } };
    }],
    ['GET', '/robots', async () => ({ status: 200, body: await s.robots() })],
    ['POST', '/robots', async ({ body }) => {
      const secret = generateSecret();
      const expiresAt = typeof body.expiresAt === 'string' ? new Date(body.expiresAt) : null;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new ApiError('INVALID', 'expiresAt is not a date');
      const robot = await s.addRobot(str(body, 'name'), secret, permissions(body.permissions), expiresAt);
      return { status: 201, body: { ...robot, secret }, audit: { action: 'robot.add', target: robot.name, detail: { permissions: robot.permissions, expiresAt: robot.expiresAt } } };
    }],
    ['DELETE', '/robots/:name', async ({ params }) => {
      await s.removeRobot(params.name!);
      return { status: 204, audit: { action: 'robot.rm', target: params.name! } };
    }],
    ['GET', '/audit', async ({ req }) => {
      const q = req.query as Record<string, string | undefined>;
      const limit = q.limit !== undefined ? Number(q.limit) : undefined;
      return { status: 200, body: await readAudit(auth.meta.db, { ...(limit ? { limit } : {}), ...(q.actor ? { actor: q.actor } : {}), ...(q.action ? { action: q.action } : {}), ...(q.since ? { since: q.since } : {}) }) };
    }],
    ...operationRoutes(auth, registry, gcGraceMs, tagRestoreMs ?? 0),
    ...(replication ? replicationRoutes(replication) : []),
    ...trustRoutes(trust, registry, loadTrust),
  ];
  for (const [method, path, action] of routes) {
    app.route({ method, url: path, handler: async (req, reply) => run(auth, req, reply, action, { host: settings.host, trusted: settings.corsOrigins }) });
  }
};

async function run(auth: AuthService, req: FastifyRequest, reply: FastifyReply, action: Action, origins: OriginPolicy): Promise<FastifyReply> {
  const address = auth.proxies.clientAddress(req.socket.remoteAddress, req.headers);
  try {
    // Before the credentials: a forged request must not even count as a failed login.
    const forged = crossSiteReason(req, origins);
    if (forged) {
      req.log.warn({ address, action: `${req.method} ${req.url.split('?')[0]}`, origin: req.headers.origin, reason: 'cross-site request' }, 'access refused');
      throw new ApiError('DENIED', forged);
    }
    if (!isJsonBody(req)) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the body must be sent as Content-Type: application/json');
    const actor = await admin(auth, req, address);
    const body = req.method === 'GET' || req.method === 'DELETE' ? {} : await readJson(req);
    const result = await action({ req, body, params: req.params as Record<string, string>, actor, address });
    if (result.audit) await appendAudit(auth.meta.db, { actor, address, ...result.audit });
    reply.code(result.status);
    if (result.body === undefined) return reply.send();
    return reply.type('application/json').send(JSON.stringify(result.body));
  } catch (err) {
    const refusal = err instanceof AccessStoreError ? AdminApiError.fromStore(err) : err;
    if (refusal instanceof AdminApiError) {
      if (refusal.status === 401) reply.header('WWW-Authenticate', 'Basic realm="berth admin"');
      return reply.code(refusal.status).type('application/json').send(adminErrorBody(refusal));
    }
    throw err;
  }
}

/** The system administrator signing in (a console session or Basic credentials), or the admin API's refusal. */
export async function admin(auth: AuthService, req: FastifyRequest, address: string): Promise<string> {
  const session = sessionIdentity(req);
  if (session) return administrator(req, session, address);
  const basic = credentialsOf(req.headers.authorization);
  if (basic?.kind !== 'basic' || basic.user === '') throw new ApiError('UNAUTHORIZED', 'administrator credentials required');
  const result = await auth.signIn.check(basic, address);
  if (!result.ok) {
    req.log.warn({ user: basic.user, address, action: `${req.method} ${req.url.split('?')[0]}`, reason: result.reason }, 'access refused');
    throw 'retryAfter' in result ? new ApiError('TOOMANYREQUESTS', 'too many failed logins') : new ApiError('UNAUTHORIZED', 'invalid credentials');
  }
  return administrator(req, result.identity, address);
}

/** The name of a signed-in system administrator, or the refusal of anyone else. */
function administrator(req: FastifyRequest, identity: Identity, address: string): string {
  if (identity.kind !== 'user' || !identity.admin) {
    req.log.warn({ user: identityName(identity), address, action: `${req.method} ${req.url.split('?')[0]}`, reason: 'not a system administrator' }, 'access refused');
    throw new ApiError('DENIED', 'only system administrators may use the admin API');
  }
  return identity.name;
}

export async function readJson(req: FastifyRequest): Promise<Body> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req.raw) {
    total += (chunk as Buffer).length;
    if (total > BODY_LIMIT) throw new ApiError('SIZE_INVALID', 'body too large', { status: 413 });
    chunks.push(chunk as Buffer);
  }
  if (total === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Body;
  } catch {
    throw new ApiError('INVALID', 'the body must be a JSON object');
  }
}


function cidrs(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && isCidr(v))) throw new ApiError('INVALID', 'allowFrom must be a list of CIDRs');
  return value as string[];
}

function permissions(value: unknown): RobotPermission[] {
  if (!Array.isArray(value)) throw new ApiError('INVALID', 'permissions must be a list of { project, actions }');
  return value.map((p: unknown) => {
    const entry = p as { project?: unknown; actions?: unknown };
    if (typeof entry?.project !== 'string' || !Array.isArray(entry.actions) || !entry.actions.every((a) => typeof a === 'string')) {
      throw new ApiError('INVALID', 'permissions must be a list of { project, actions }');
    }
    return { project: entry.project, actions: entry.actions as string[] };
  });
}
