// Prometheus instruments of cache eviction, per upstream, on the Registry the metrics feature
// passes in: images and bytes evicted, and the cache's current size (read from the
// bookkeeping at scrape time, so it moves with every fetch, not only with eviction runs).
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import type { MetaTables } from '../meta/tables/index.js';
import type { EvictionReport } from './eviction.js';

export interface EvictionMetrics {
  recordRun(report: EvictionReport): void;
}

export function createEvictionMetrics(registry: PromRegistry, db: Kysely<MetaTables>, upstreams: string[]): EvictionMetrics {
  const registers = [registry];
  const evictions = new Counter({
    name: 'registry_proxy_evictions_total', help: 'Cached images (root manifest and what it reaches) evicted by the cache limits',
    labelNames: ['upstream'] as const, registers,
  });
  const bytes = new Counter({
    name: 'registry_proxy_evicted_bytes_total', help: 'Bytes of cached content evicted (reclaimed on disk by the next garbage collection)',
    labelNames: ['upstream'] as const, registers,
  });
  new Gauge({
    name: 'registry_proxy_cache_bytes', help: 'Bytes cached from each upstream (each distinct digest once)',
    labelNames: ['upstream'] as const, registers,
    async collect() {
      this.reset();
      for (const u of upstreams) this.set({ upstream: u }, 0);
      try {
        for (const row of await cacheBytesByUpstream(db)) this.set({ upstream: row.upstream }, row.bytes);
      } catch {
        // A scrape during shutdown (database closed) reports zeros rather than failing the scrape.
      }
    },
  });
  return {
    recordRun(report) {
      if (report.dryRun) return;
      for (const u of report.upstreams) {
        evictions.inc({ upstream: u.upstream }, u.evicted.length);
        bytes.inc({ upstream: u.upstream }, u.evicted.reduce((t, e) => t + e.freedBytes, 0));
      }
    },
  };
}

/** Per upstream, the sum of its distinct digests' sizes. */
export async function cacheBytesByUpstream(db: Kysely<MetaTables>): Promise<{ upstream: string; bytes: number }[]> {
  const distinct = db.selectFrom('proxy_cache_entries')
    .select(['upstream', 'digest']).select((eb) => eb.fn.max('size').as('size'))
    .groupBy(['upstream', 'digest']).as('d');
  const rows = await db.selectFrom(distinct).select('upstream').select((eb) => eb.fn.sum<number | string>('size').as('bytes'))
    .groupBy('upstream').execute();
  return rows.map((r) => ({ upstream: r.upstream, bytes: Number(r.bytes) }));
}
