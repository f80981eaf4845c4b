// Garbage collection runs with their reports (src/gc/run-book.ts writes, the read API reads):
// one row per finished run of `berth gc`, the schedule, the admin API or eviction. The counts
// are columns for lists; the report's lists are JSON, capped (see run-book.ts).
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface GcRunTables {
  berth_gc_run: {
    /** ISO start time and a random suffix: id order is start order. */
    id: string;
    /** Milliseconds since the epoch. */
    started_at: BigIntColumn;
    duration_ms: BigIntColumn;
    /** schedule | api | cli | eviction */
    trigger: string;
    /** Who asked (an administrator through the admin API); null for schedules and commands. */
    actor: string | null;
    dry_run: number;
    blobs: number;
    bytes: BigIntColumn;
    manifests: number;
    layer_links: number;
    /** The report as JSON, each list capped. */
    report: string;
  };
}
