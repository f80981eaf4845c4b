// The notification queues: one row per (endpoint, event) until it is delivered; rows that ran
// out of attempts stay with `dead_at` set, as the dead-letter list.
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface EventsTables {
  berth_event_queue: {
    endpoint: string;
    event_id: string;
    /** Enqueue order within an endpoint. */
    seq: BigIntColumn;
    /** One event of Distribution's envelope, as JSON. */
    payload: string;
    action: string;
    repository: string;
    attempts: number;
    /** Milliseconds since the epoch. */
    next_attempt_at: BigIntColumn;
    created_at: BigIntColumn;
    last_error: string | null;
    dead_at: ColumnType<number | string | null, number | null, number | null>;
    /** Who holds the row until `next_attempt_at` (migration 0250); null when unclaimed. */
    claim: ColumnType<string | null, string | null | undefined, string | null>;
  };
}
