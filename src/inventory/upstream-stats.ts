// The pull-through upstreams as the read API shows them: each configured upstream (from the
// masked configuration, so a URL's credentials never show) with its counters
// (tables/proxy-stats.ts, written by src/proxy/upstream-counters.ts) and what its cache holds
// now (proxy_cache_entries). An upstream that was removed from the configuration but still has
// counters is listed too, as not configured.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';

export interface UpstreamStats {
  name: string;
  remoteurl: string | null;
  configured: boolean;
  hits: number;
  misses: number;
  manifestHits: number;
  blobHits: number;
  manifestMisses: number;
  blobMisses: number;
  servedBytes: number;
  fetchedBytes: number;
  errors: number;
  cachedBytes: number;
  cachedItems: number;
  updatedAt: string | null;
}

/** Names and URLs of the upstreams in a (masked) configuration: proxy.upstreams, and Distribution's proxy.remoteurl as "default". */
export function configuredUpstreams(config: unknown): Array<{ name: string; remoteurl: string }> {
  const proxy = (config as { proxy?: { remoteurl?: unknown; upstreams?: unknown } } | undefined)?.proxy;
  const out: Array<{ name: string; remoteurl: string }> = [];
  if (Array.isArray(proxy?.upstreams)) {
    for (const u of proxy.upstreams as Array<{ name?: unknown; remoteurl?: unknown }>) {
      if (typeof u.name === 'string') out.push({ name: u.name, remoteurl: typeof u.remoteurl === 'string' ? u.remoteurl : '' });
    }
  }
  if (typeof proxy?.remoteurl === 'string' && !out.some((u) => u.name === 'default')) out.push({ name: 'default', remoteurl: proxy.remoteurl });
  return out;
}

export async function upstreamStats(db: Kysely<MetaTables>, config: unknown): Promise<UpstreamStats[]> {
  const configured = configuredUpstreams(config);
  const counters = new Map((await db.selectFrom('berth_proxy_upstream_stats').selectAll().execute()).map((r) => [r.upstream, r]));
  const cached = new Map((await db.selectFrom('proxy_cache_entries').select(['upstream', (eb) => eb.fn.sum<number | string>('size').as('bytes'), (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy('upstream').execute()).map((r) => [r.upstream, r]));
  const names = [...new Set([...configured.map((u) => u.name), ...counters.keys()])].sort();
  return names.map((name) => {
    const c = counters.get(name);
    const n = (v: number | string | undefined) => Number(v ?? 0);
    const [manifestHits, blobHits, manifestMisses, blobMisses] = [n(c?.manifest_hits), n(c?.blob_hits), n(c?.manifest_misses), n(c?.blob_misses)];
    const conf = configured.find((u) => u.name === name);
    return {
      name, remoteurl: conf?.remoteurl ?? null, configured: conf !== undefined,
      hits: manifestHits + blobHits, misses: manifestMisses + blobMisses, manifestHits, blobHits, manifestMisses, blobMisses,
      servedBytes: n(c?.served_bytes), fetchedBytes: n(c?.fetched_bytes), errors: n(c?.errors),
      cachedBytes: n(cached.get(name)?.bytes), cachedItems: n(cached.get(name)?.n),
      updatedAt: c ? new Date(Number(c.updated_at)).toISOString() : null,
    };
  });
}
