// What `berth serve` runs of the cache limits: the cache-size metrics when upstreams are
// configured, and `evictProxyCache` every `proxy.eviction.interval` when some upstream has a
// maxsize or maxage. Replicas may all schedule it: a second run over
// rows the first already deleted finds nothing to do, and deletes of missing content are no-ops.
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import { every } from '../gc/schedule.js';
import type { MetaTables } from '../meta/tables/index.js';
import type { Registry } from '../registry/registry.js';
import { cacheLimitsFrom } from './cache-limits.js';
import { evictProxyCache } from './eviction.js';
import type { Registry as PromRegistry } from 'prom-client';
import { createEvictionMetrics } from './eviction-metrics.js';

export function startEvictionSchedule(
  registry: Registry, db: Kysely<MetaTables> | undefined, proxy: Config['proxy'], logger: FastifyBaseLogger, prom?: PromRegistry,
  /** Run after an eviction run that evicted something (serve: the garbage collector, when `proxy.eviction.collect`). */
  afterEviction?: () => Promise<void>,
): { stop(): void } {
  const names = proxy.upstreams.map((u) => u.name);
  if (db === undefined || names.length === 0) return { stop: () => {} };
  const metrics = prom ? createEvictionMetrics(prom, db, names) : undefined;
  const limits = cacheLimitsFrom(proxy);
  if (limits.length === 0) return { stop: () => {} };
  const stop = every(proxy.eviction.interval, logger, 'proxy cache eviction', async () => {
    const report = await evictProxyCache(registry, db, limits);
    if (afterEviction && report.upstreams.some((u) => u.evicted.length > 0)) await afterEviction();
    metrics?.recordRun(report);
    for (const u of report.upstreams) {
      for (const e of u.evicted) {
        logger.info({ upstream: u.upstream, repository: e.repository, root: e.root, reason: e.reason, bytes: e.freedBytes }, 'proxy cache: image evicted');
      }
      for (const f of u.failed) logger.warn({ upstream: u.upstream, repository: f.repository, root: f.root, err: f.error }, 'proxy cache: eviction refused');
      logger.info({ upstream: u.upstream, bytesBefore: u.bytesBefore, bytesAfter: u.bytesAfter, evicted: u.evicted.length, skipped: u.skipped.length, failed: u.failed.length }, 'proxy cache eviction finished');
    }
  });
  return { stop };
}
