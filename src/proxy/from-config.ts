// Builds the pull-through cache of one server from its configuration (serve calls it when the
// proxy section names an upstream).
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.js';
import type { Registry } from '../registry/registry.js';
import type { MetaTables } from '../meta/tables/index.js';
import type { MetricsRegistry } from '../metrics/metrics.js';
import { upstreamsFromConfig } from './upstreams.js';
import { proxyMetrics } from './proxy-metrics.js';
import { withPullThrough, type PullThrough } from './pull-through.js';
import type { ProxyScope } from './proxy-scope.js';
import type { Redis } from '../redis/connect.js';
import { FillLocks } from './fill-lock.js';
import { describeProxy } from '../client/proxy-env.js';
import type { UpstreamAdmission } from './admission.js';

export function pullThroughFromConfig(config: Config, core: Registry, deps: { db: Kysely<MetaTables>; metrics?: MetricsRegistry | undefined; logger: FastifyBaseLogger; redis?: Redis | undefined; scope?: ProxyScope; admission?: ((policy: string) => UpstreamAdmission) | undefined }): PullThrough {
  const upstreams = upstreamsFromConfig(config);
  for (const u of upstreams) {
    u.log = deps.logger;
    if (u.verify !== undefined) {
      // The configuration check makes sure the policy exists; content trust is then loaded.
      if (!deps.admission) throw new Error(`proxy upstream "${u.name}": verify names trust policy "${u.verify}", but content trust is not running`);
      u.admission = deps.admission(u.verify);
    }
    const where = u.prefix === undefined ? 'every repository' : `${u.prefix}/*${u.namespaces.length ? `, ?ns=${u.namespaces.join(',')}` : ''}${u.root ? ', root' : ''}`;
    const verified = u.verify !== undefined ? `, signatures required by trust policy "${u.verify}"` : '';
    const proxy = u.client.endpoint.proxyFor(u.remoteurl);
    const via = proxy ? ` through proxy ${describeProxy(proxy)}` : '';
    deps.logger.info({ upstream: u.name, remoteurl: u.remoteurl, ...(proxy ? { proxy: describeProxy(proxy) } : {}) }, `pull-through cache: ${where} from ${u.remoteurl}${via}${verified}`);
  }
  return withPullThrough(core, {
    upstreams,
    db: deps.db,
    ...(deps.scope ? { scope: deps.scope } : {}),
    ...(deps.metrics ? { metrics: proxyMetrics(deps.metrics) } : {}),
    onError: (err) => deps.logger.warn({ err }, 'pull-through cache: bookkeeping write failed'),
    ...(deps.redis ? {
      fillLocks: new FillLocks(deps.redis, (err) => deps.logger.warn({ err }, 'pull-through cache: redis does not answer; blob fills are shared within this replica only until it does')),
    } : {}),
  });
}
