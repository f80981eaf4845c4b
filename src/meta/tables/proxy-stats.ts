// The pull-through cache's counters per upstream (src/proxy/upstream-counters.ts adds to them,
// the read API reads them): kept in the metadata database so that they survive restarts and sum
// over replicas, unlike the Prometheus counters of the same events.
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface ProxyStatsTables {
  berth_proxy_upstream_stats: {
    upstream: string;
    manifest_hits: BigIntColumn;
    blob_hits: BigIntColumn;
    manifest_misses: BigIntColumn;
    blob_misses: BigIntColumn;
    /** Bytes of proxied manifests and blobs sent to clients. */
    served_bytes: BigIntColumn;
    /** Blob bytes read from the upstream. */
    fetched_bytes: BigIntColumn;
    errors: BigIntColumn;
    /** Milliseconds since the epoch of the last change. */
    updated_at: BigIntColumn;
  };
}
