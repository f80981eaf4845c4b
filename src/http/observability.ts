// The HTTP side of observability, installed by buildApp: Distribution's request metrics under
// its handler names, pull outcomes and bytes sent, one access log line per request, the one
// request context (events, pull-through cache), and /healthz, /readyz and (optionally) /metrics.
// The route is the one request-target.ts matched and kept; its handler name is in the route table.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';
import type { Health } from '../health/health.js';
import type { RequestContext, RequestScope } from '../events/request-scope.js';
import { acceptedTarget } from './request-target.js';
import { query } from './request-input.js';
import { looksSecret } from '../config/secret-names.js';

export interface HttpObservability {
  scope: RequestScope;
  metrics?: Metrics;
  health?: Health;
  /** Path of /metrics on this listener, when it is served here. */
  metricsPath?: string;
  accessLog: boolean;
}

interface Observed {
  handler: string | undefined;
  repository: string;
  param: string;
  start: bigint;
  sent: number;
}

export function installObservability(app: FastifyInstance, obs: HttpObservability): void {
  const observed = new WeakMap<FastifyRequest, Observed>();
  app.addHook('onRequest', async (req, reply) => {
    const api = acceptedTarget(req)?.api;
    const match = api?.match;
    const handler = !api ? undefined : api.rest === '' ? 'base' : match ? match.route.metric : 'unknown';
    const o: Observed = { handler, repository: match?.name ?? '', param: match?.param ?? '', start: process.hrtime.bigint(), sent: 0 };
    observed.set(req, o);
    countSentBytes(reply.raw, (n) => { o.sent += n; });
    if (handler) obs.metrics?.httpInFlight.inc({ handler });
    reply.raw.once('close', () => finish(req, reply.raw.statusCode, reply.raw.writableFinished, o, obs));
  });
  if (obs.health) registerHealthRoutes(app, obs.health);
  if (obs.metrics && obs.metricsPath) registerMetricsRoute(app, obs.metrics, obs.metricsPath);
}

/** Runs a route handler inside the request's one context (created here, once per request). */
export function inRequestScope<T>(obs: HttpObservability | undefined, req: FastifyRequest, reply: FastifyReply, fn: () => Promise<T>): Promise<T> {
  return obs ? obs.scope.run(requestContext(req, reply), fn) : fn();
}

export function registerHealthRoutes(app: FastifyInstance, health: Health): void {
  app.get('/healthz', async (_req, reply) => reply.code(200).type('application/json').send('{"status":"ok"}'));
  app.get('/readyz', async (_req, reply) => {
    const r = await health.readiness();
    return reply.code(r.failing.length ? 503 : 200).type('application/json').send(JSON.stringify(r));
  });
}

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, path: string): void {
  app.get(path, async (_req, reply) => reply.code(200).type(metrics.contentType).send(await metrics.render()));
}

function finish(req: FastifyRequest, status: number, complete: boolean, o: Observed, obs: HttpObservability): void {
  const seconds = Number(process.hrtime.bigint() - o.start) / 1e9;
  const m = obs.metrics;
  if (m && o.handler) {
    const handler = o.handler;
    m.httpInFlight.dec({ handler });
    m.httpRequests.inc({ handler, code: String(status), method: req.method });
    m.httpDuration.observe({ handler, method: req.method }, seconds);
    m.httpRequestSize.observe({ handler }, Number(req.headers['content-length'] ?? 0) || 0);
    m.httpResponseSize.observe({ handler }, o.sent);
    if ((handler === 'blob' || handler === 'manifest') && req.method === 'GET') {
      const success = complete && (status === 200 || status === 206 || status === 304);
      m.pulls.inc({ kind: handler, outcome: success ? 'success' : 'failure' });
      if (o.sent > 0 && status < 300) m.sentBytes.inc({ kind: handler }, o.sent);
    }
  }
  if (!obs.accessLog) return;
  req.log.info({
    method: req.method,
    url: redactQuery(req.url),
    status,
    complete,
    durationMs: Math.round(seconds * 1e6) / 1e3,
    bytesIn: Number(req.headers['content-length'] ?? 0) || 0,
    bytesOut: o.sent,
    ...(o.repository ? { repository: o.repository } : {}),
    ...(o.param.includes(':') ? { digest: o.param } : o.param && o.handler === 'manifest' ? { reference: o.param } : {}),
    user: obs.scope.current()?.user ?? requestUser(req),
    remoteAddr: req.ip,
    userAgent: req.headers['user-agent'],
  }, 'access');
}

/** Set by the auth feature on the request (`req.berthUser`), else none. */
function requestUser(req: FastifyRequest): string | undefined {
  const user = (req as unknown as { berthUser?: unknown }).berthUser;
  return typeof user === 'string' ? user : undefined;
}

function countSentBytes(res: NodeJS.WritableStream & { write: (...a: never[]) => boolean; end: (...a: never[]) => unknown }, add: (n: number) => void): void {
  const write = res.write.bind(res) as (...a: unknown[]) => boolean;
  const end = res.end.bind(res) as (...a: unknown[]) => unknown;
  const size = (chunk: unknown, encoding: unknown) => typeof chunk === 'string'
    ? Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8')
    : chunk instanceof Uint8Array ? chunk.length : 0;
  (res as unknown as { write: (...a: unknown[]) => boolean }).write = (...args: unknown[]) => {
    add(size(args[0], args[1]));
    return write(...args);
  };
  (res as unknown as { end: (...a: unknown[]) => unknown }).end = (...args: unknown[]) => {
    if (typeof args[0] !== 'function') add(size(args[0], args[1]));
    return end(...args);
  };
}

function requestContext(req: FastifyRequest, reply: FastifyReply): RequestContext {
  const socket = req.raw.socket;
  return {
    id: req.id,
    addr: `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`,
    host: req.headers.host ?? '',
    scheme: req.protocol,
    method: req.method,
    useragent: req.headers['user-agent'] ?? '',
    url: req.url,
    ...(requestUser(req) ? { user: requestUser(req)! } : {}),
    ns: query(req, 'ns'),
    setHeader: (name, value) => void reply.header(name, value),
  };
}

export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of [...params.keys()]) if (looksSecret(key)) params.set(key, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`;
}
