// The pull-through cache's bookkeeping (src/proxy writes, eviction reads and deletes): what was
// cached from which upstream, when, and when it was last pulled; and when each cached tag was
// last checked against its upstream.
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface ProxyTables {
  proxy_cache_entries: {
    upstream: string;
    /** The LOCAL repository name (with the upstream's prefix, if any). */
    repository: string;
    digest: string;
    kind: 'manifest' | 'blob';
    /** Bytes. */
    size: BigIntColumn;
    /** Milliseconds since the epoch. */
    fetched_at: BigIntColumn;
    last_pulled_at: BigIntColumn;
  };
  proxy_cache_tags: {
    upstream: string;
    repository: string;
    tag: string;
    digest: string;
    /** When the upstream last confirmed (or gave) this digest, ms since the epoch. */
    validated_at: BigIntColumn;
  };
}
