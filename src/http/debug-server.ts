// Distribution's debug listener (`http.debug.addr`): /metrics when `http.debug.prometheus` is
// enabled, Distribution's /debug/health, and Berth's /healthz and /readyz. It never serves /v2/.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';
import type { Health } from '../health/health.js';
import { registerHealthRoutes, registerMetricsRoute } from './observability.js';

export interface DebugServerOptions {
  logger: FastifyBaseLogger;
  health: Health | undefined;
  metrics: Metrics | undefined;
  /** Where /metrics is served, or undefined for none. */
  metricsPath: string | undefined;
}

export async function buildDebugServer(options: DebugServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }), return503OnClosing: true });
  if (options.metrics && options.metricsPath) registerMetricsRoute(app, options.metrics, options.metricsPath);
  const health = options.health;
  if (health) {
    registerHealthRoutes(app, health);
    // Distribution's shape: {} when healthy, else {"<check>": "<error>"} with 503.
    app.get('/debug/health', async (_req, reply) => {
      const r = await health.readiness();
      const body = Object.fromEntries(r.failing.map((name) => [name, r.checks[name]?.error ?? 'failing']));
      return reply.code(r.failing.length ? 503 : 200).type('application/json').send(JSON.stringify(body));
    });
  }
  return app;
}
