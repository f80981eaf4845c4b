// The pull-through cache's counters per upstream, kept in the metadata database for the read API
// (tables/proxy-stats.ts): hits, misses, bytes served from the cache, bytes fetched, errors. The
// same events feed the Prometheus counters (proxy-metrics.ts); these survive restarts and add up
// over replicas. Counted in memory and added to the rows every FLUSH_MS and on close, so a pull
// never waits on a database write.
import { sql, type Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { CacheKind, ProxyMetrics } from './proxy-metrics.js';

const FLUSH_MS = 2000;
const FIELDS = ['manifest_hits', 'blob_hits', 'manifest_misses', 'blob_misses', 'served_bytes', 'fetched_bytes', 'errors'] as const;
type Field = typeof FIELDS[number];
type Deltas = Record<Field, number>;

export class UpstreamCounters implements ProxyMetrics {
  readonly #db: Kysely<MetaTables>;
  readonly #onError: (err: unknown) => void;
  #pending = new Map<string, Deltas>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(db: Kysely<MetaTables>, onError: (err: unknown) => void = () => undefined) {
    this.#db = db;
    this.#onError = onError;
  }

  hit(upstream: string, kind: CacheKind): void { this.#add(upstream, kind === 'manifest' ? 'manifest_hits' : 'blob_hits', 1); }
  miss(upstream: string, kind: CacheKind): void { this.#add(upstream, kind === 'manifest' ? 'manifest_misses' : 'blob_misses', 1); }
  upstreamBytes(upstream: string, n: number): void { this.#add(upstream, 'fetched_bytes', n); }
  servedBytes(upstream: string, n: number): void { this.#add(upstream, 'served_bytes', n); }
  upstreamError(upstream: string): void { this.#add(upstream, 'errors', 1); }

  /** Adds what was counted so far to the rows; resolves once written (or reported lost). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#writing = this.#writing.then(async () => {
      if (batch.size === 0) return;
      try {
        const now = Date.now();
        await this.#db.transaction().execute(async (trx) => {
          for (const [upstream, d] of batch) {
            await trx.insertInto('berth_proxy_upstream_stats').values({ upstream, ...d, updated_at: now })
              .onConflict((oc) => oc.column('upstream').doUpdateSet(Object.fromEntries([
                ...FIELDS.map((f) => [f, sql`berth_proxy_upstream_stats.${sql.ref(f)} + ${d[f]}`]), ['updated_at', now],
              ]))).execute();
          }
        });
      } catch (err) {
        this.#onError(err);
      }
    });
    return this.#writing;
  }

  #add(upstream: string, field: Field, n: number): void {
    if (n === 0) return;
    let d = this.#pending.get(upstream);
    if (!d) {
      d = Object.fromEntries(FIELDS.map((f) => [f, 0])) as Deltas;
      this.#pending.set(upstream, d);
    }
    d[field] += n;
    if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.#timer.unref();
    }
  }
}

/** What the rows hold for one upstream: every replica's counts since the database first counted. */
export interface UpstreamTotals {
  hits: { manifest: number; blob: number };
  misses: { manifest: number; blob: number };
  upstreamBytes: number;
  servedBytes: number;
  errors: number;
  updatedAt: string | null;
}

export async function readUpstreamTotals(db: Kysely<MetaTables>): Promise<Map<string, UpstreamTotals>> {
  const rows = await db.selectFrom('berth_proxy_upstream_stats').selectAll().execute();
  return new Map(rows.map((r) => [r.upstream, {
    hits: { manifest: Number(r.manifest_hits), blob: Number(r.blob_hits) }, misses: { manifest: Number(r.manifest_misses), blob: Number(r.blob_misses) },
    upstreamBytes: Number(r.fetched_bytes), servedBytes: Number(r.served_bytes), errors: Number(r.errors), updatedAt: new Date(Number(r.updated_at)).toISOString(),
  }]));
}

export const NO_TOTALS: UpstreamTotals = { hits: { manifest: 0, blob: 0 }, misses: { manifest: 0, blob: 0 }, upstreamBytes: 0, servedBytes: 0, errors: 0, updatedAt: null };

/** Both: every event goes to `a` and `b`. */
export function bothMetrics(a: ProxyMetrics, b: ProxyMetrics): ProxyMetrics {
  return {
    hit: (u, k) => { a.hit(u, k); b.hit(u, k); },
    miss: (u, k) => { a.miss(u, k); b.miss(u, k); },
    upstreamBytes: (u, n) => { a.upstreamBytes(u, n); b.upstreamBytes(u, n); },
    servedBytes: (u, n) => { a.servedBytes(u, n); b.servedBytes(u, n); },
    upstreamError: (u, r) => { a.upstreamError(u, r); b.upstreamError(u, r); },
  };
}
