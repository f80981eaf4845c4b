// What the console's Upstreams page shows of each pull-through upstream: its settings, its
// circuit breaker, what its cache holds (the bookkeeping rows, shared by every replica) and the
// traffic this process has seen since it started (the proxy's Prometheus counters; absent when
// metrics are off).
import { sql } from 'kysely';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { PullThrough } from './pull-through.js';
import { NO_TOTALS, readUpstreamTotals, type UpstreamTotals } from './upstream-counters.js';
import { maskUrl } from '../config/mask.js';

export interface UpstreamReport {
  name: string;
  remoteurl: string;
  /** Local names under `<prefix>/` come from it; null: every name (Distribution's remoteurl). */
  prefix: string | null;
  namespaces: string[];
  ttlMs: number;
  maxBytes: number;
  maxAgeMs: number;
  breaker: 'closed' | 'open' | 'half-open';
  cache: { manifests: number; blobs: number; bytes: number; tags: number; lastPulledAt: string | null };
  /** Since this process started; null without metrics. */
  traffic: {
    hits: { manifest: number; blob: number };
    misses: { manifest: number; blob: number };
    upstreamBytes: number;
    servedBytes: number;
    errors: Record<string, number>;
  } | null;
  /** Every replica's counts since the database first counted (tables/proxy-stats.ts), written every 2 s. */
  totals: UpstreamTotals;
}

export async function upstreamReport(proxy: PullThrough, metrics: MetricsRegistry | undefined): Promise<UpstreamReport[]> {
  const entries = await proxy.db.selectFrom('proxy_cache_entries')
    .select(['upstream', 'kind', sql<number | string>`count(*)`.as('n'), sql<number | string>`sum(size)`.as('bytes'), sql<number | string | null>`max(last_pulled_at)`.as('pulled')])
    .groupBy(['upstream', 'kind']).execute();
  const tags = await proxy.db.selectFrom('proxy_cache_tags').select(['upstream', sql<number | string>`count(*)`.as('n')]).groupBy('upstream').execute();
  const counters = metrics ? await counterValues(metrics) : undefined;
  const totals = await readUpstreamTotals(proxy.db);
  return proxy.upstreams.map((u) => {
    const mine = entries.filter((e) => e.upstream === u.name);
    const count = (kind: string) => Number(mine.find((e) => e.kind === kind)?.n ?? 0);
    const pulled = Math.max(0, ...mine.map((e) => Number(e.pulled ?? 0)));
    const value = (metric: string, labels: Record<string, string> = {}) => (counters?.get(metric) ?? [])
      .filter((v) => v.labels.upstream === u.name && Object.entries(labels).every(([k, x]) => v.labels[k] === x))
      .reduce((n, v) => n + v.value, 0);
    const errors: Record<string, number> = {};
    for (const v of counters?.get('registry_proxy_upstream_errors_total') ?? []) {
      if (v.labels.upstream === u.name) errors[String(v.labels.reason)] = (errors[String(v.labels.reason)] ?? 0) + v.value;
    }
    return {
      name: u.name, remoteurl: maskUrl(u.remoteurl), prefix: u.prefix ?? null, namespaces: u.namespaces,
      ttlMs: u.ttlMs, maxBytes: u.maxBytes, maxAgeMs: u.maxAgeMs, breaker: u.breaker.state,
      cache: {
        manifests: count('manifest'), blobs: count('blob'), bytes: mine.reduce((n, e) => n + Number(e.bytes ?? 0), 0),
        tags: Number(tags.find((t) => t.upstream === u.name)?.n ?? 0), lastPulledAt: pulled > 0 ? new Date(pulled).toISOString() : null,
      },
      traffic: counters ? {
        hits: { manifest: value('registry_proxy_hits_total', { kind: 'manifest' }), blob: value('registry_proxy_hits_total', { kind: 'blob' }) },
        misses: { manifest: value('registry_proxy_misses_total', { kind: 'manifest' }), blob: value('registry_proxy_misses_total', { kind: 'blob' }) },
        upstreamBytes: value('registry_proxy_upstream_bytes_total'), servedBytes: value('registry_proxy_served_bytes_total'), errors,
      } : null,
      totals: totals.get(u.name) ?? NO_TOTALS,
    };
  });
}

type Values = Map<string, Array<{ labels: Record<string, string | number>; value: number }>>;

async function counterValues(metrics: MetricsRegistry): Promise<Values> {
  const out: Values = new Map();
  for (const name of ['registry_proxy_hits_total', 'registry_proxy_misses_total', 'registry_proxy_upstream_bytes_total', 'registry_proxy_served_bytes_total', 'registry_proxy_upstream_errors_total']) {
    const metric = metrics.getSingleMetric(name);
    if (metric) out.set(name, (await metric.get()).values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value })));
  }
  return out;
}
