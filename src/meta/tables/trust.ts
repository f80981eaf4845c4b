// Content trust's durable state (src/trust): the policies added through the admin API or CLI.
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface TrustTables {
  trust_policies: {
    name: string;
    /** The policy as the admin API took it (keys and certificates as PEM text), JSON. */
    body: string;
    /** Milliseconds since the epoch; with the row count, the stamp a reader compares. */
    updated_at: BigIntColumn;
  };
}
