// The Fastify application: one dispatcher over the route table, one error hook, common headers.
// Bodies are never parsed by Fastify: handlers stream `req.raw` themselves.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import { randomUUID } from 'node:crypto';
import type { Registry } from '../registry/registry.js';
import { isValidName } from '../oci/reference.js';
import { RegistryError } from '../errors/index.js';
import { ROUTES, matchRoute, type RouteMatcher } from './routes.js';
import { targetOf, targetRewriter } from './request-target.js';
import { handlerAccepted } from './body-guards.js';
import type { HttpSettings } from './settings.js';
import { installErrorHandling } from './error-hook.js';
import { answerClientError, frameworkErrorHandler, requireHost } from './protocol-errors.js';
import { inRequestScope, installObservability, type HttpObservability } from './observability.js';
import type { AuthService } from '../auth/service.js';
import { answeredWithoutCredentials, gateJudged, installAuth, type AlsoRequired } from './auth-hook.js';
import type { ReplicationService } from '../replication/service.js';
import type { Inventory } from '../inventory/inventory.js';
import type { TlsServerOptions } from './tls.js';
import { installConnectionGuards } from './connection-guards.js';
import { consoleSessions, installConsole, type ConsoleSettings } from './console/console.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';
import type { TrustService } from '../trust/trust-service.js';

export interface AppOptions {
  registry: Registry;
  settings: HttpSettings;
  logger: FastifyBaseLogger;
  accessLog?: boolean;
  /** Metrics, health routes, access log and the one request context (events, pull-through cache). */
  observe?: HttpObservability;
  auth?: AuthService;
  /** The grace period of an admin-API garbage collection without its own (`gc.grace`). */
  gcGraceMs?: number;
  /** How long a deleted tag stays restorable through the admin API (`gc.tagrestore`). */
  tagRestoreMs?: number;
  tls?: TlsServerOptions;
  /** How a path after /v2/ finds its route (once per request); a test passes a counting one. */
  matchRoute?: RouteMatcher;
  /** Replication's policies and jobs, for the admin API. */
  replication?: ReplicationService | undefined;
  /** Repositories a pull also reads, whose pull rights the caller needs too (the pull-through cache's stored names). */
  alsoRequired?: AlsoRequired;
  /** The web console (`ui`); off when absent. */
  console?: ConsoleSettings;
  /** What the read API (/api/v1) serves from; without it (no listing index) there is none. */
  inventory?: Inventory;
  /** The pull-through upstreams' report for the read API (/api/v1/upstreams), when a cache is configured. */
  upstreams?: (() => Promise<unknown>) | undefined;
  /** Content trust: verdicts under /api/v1/trust. */
  trust?: TrustService | undefined;
  /** Without policies in config.yml: loads content trust for the admin API's trust routes. */
  loadTrust?: (() => Promise<TrustService>) | undefined;
  /** Without policies in config.yml: content trust once a stored policy exists, for the read API's verdicts. */
  activeTrust?: (() => Promise<TrustService | undefined>) | undefined;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { registry, settings } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: options.accessLog === false }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: 4096 },
    return503OnClosing: true,
    // A socket idle this long is closed (a stalled upload must not hold a connection forever);
    // active transfers of any length are unaffected.
    connectionTimeout: 10 * 60 * 1000,
    http: { maxHeaderSize: settings.maxHeaderBytes, requireHostHeader: false },
    clientErrorHandler: answerClientError,
    frameworkErrors: frameworkErrorHandler(),
    // The target is read and its route matched once, before routing; everything after uses that.
    rewriteUrl: targetRewriter(settings.prefix, options.matchRoute ?? matchRoute),
    schemaController: lazySchemaCompilers,
    ...(options.tls ?? {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  installConnectionGuards(app, settings);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  app.addHook('onRequest', async (req, reply) => {
    reply.header('Docker-Distribution-API-Version', 'registry/2.0');
    reply.header('X-Request-Id', req.id);
    for (const [name, values] of Object.entries(settings.headers)) reply.header(name, values.join(', '));
    targetOf(req);
    await requireHost(req);
  });
  if (settings.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: settings.corsOrigins.includes('*') ? '*' : settings.corsOrigins,
      methods: [...METHODS],
      allowedHeaders: ['Authorization', 'Content-Type', 'Content-Range', 'Range', 'Accept', 'If-None-Match'],
      exposedHeaders: ['Docker-Content-Digest', 'Docker-Upload-UUID', 'Location', 'Range', 'Content-Range', 'Link', 'OCI-Subject', 'OCI-Filters-Applied', 'ETag'],
      maxAge: settings.corsMaxAge,
    });
  }
  installErrorHandling(app);
  if (options.observe) installObservability(app, options.observe);
  const auth = options.auth;
  const sessions = consoleSessions(auth, options.console, settings);
  const gate = auth ? installAuth(app, auth, settings, options.alsoRequired, sessions) : undefined;
  if (options.console?.enabled) await installConsole(app, options.console, auth, sessions, settings);
  if (auth) {
    // Encapsulated plugins, registered after every hook above so that they inherit them all;
    // loaded only when auth is configured (lazy-load features: DESIGN.md).
    const [{ tokenServer }, { adminApi }, { accessTokenApi }] = await Promise.all([import('./token-routes.js'), import('./admin-api.js'), import('./access-token-api.js')]);
    await app.register(tokenServer, { prefix: settings.prefix, auth, settings });
    await app.register(adminApi, { prefix: `${settings.prefix}/api/v1`, auth, settings, registry, gcGraceMs: options.gcGraceMs ?? 60 * 60 * 1000, tagRestoreMs: options.tagRestoreMs ?? 0, replication: options.replication, trust: options.trust, loadTrust: options.loadTrust });
    await app.register(accessTokenApi, { prefix: `${settings.prefix}/api/v1`, auth, settings });
  }
  if (options.inventory) await app.register((await import('./read-api/plugin.js')).readApi, { prefix: `${settings.prefix}/api/v1`, inventory: options.inventory, auth, settings, alsoRequired: options.alsoRequired, upstreams: options.upstreams, trust: options.trust, activeTrust: options.activeTrust });

  // Returning the reply tells Fastify the response is in hand (a stream may still be flowing).
  const dispatch = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const api = targetOf(req).api;
    // Defence in depth: whatever reaches here was routed on the string the gate judged.
    if (!api || (gate && !gateJudged(req))) throw new RegistryError('INTERNAL', { requestId: req.id, reason: 'request reached the registry API without the gate' });
    if (api.rest === '') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new RegistryError('UNSUPPORTED', `${req.method} is not supported on /v2/`, { headers: { Allow: 'GET, HEAD' } });
      }
      apiVersionCheck(reply);
      return reply;
    }
    const match = api.match;
    if (!match) throw new RegistryError('NOT_FOUND', { path: targetOf(req).path });
    const handler = match.route.methods[req.method];
    if (!handler) {
      throw new RegistryError('UNSUPPORTED', `${req.method} is not supported on ${match.route.name}`, {
        headers: { Allow: Object.keys(match.route.methods).join(', ') },
      });
    }
    if (match.route.hasName && !isValidName(match.name)) throw new RegistryError('NAME_INVALID', { name: match.name });
    handlerAccepted(req.raw);
    const run = () => handler({ req, reply, registry, settings, name: match.name, param: match.param, visible: gate?.repositoryFilter(req), shared: answeredWithoutCredentials(req) });
    await inRequestScope(options.observe, req, reply, run);
    return reply;
  };
  const prefix = settings.prefix;
  // The gate is a hook of these routes: nothing the router sends to the registry API skips it.
  const onRequest = gate ? [gate.hook] : [];
  app.route({ method: [...METHODS], url: `${prefix}/v2`, onRequest, handler: dispatch });
  app.route({ method: [...METHODS], url: `${prefix}/v2/*`, onRequest, handler: dispatch });
  return app;
}

function apiVersionCheck(reply: FastifyReply): void {
  reply.code(200).type('application/json').send('{}');
}

export { ROUTES };
