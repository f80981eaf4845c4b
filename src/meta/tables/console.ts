// The console's sessions (src/http/console/sessions.ts). A session is found by the SHA-256 of its
// cookie, never the cookie itself, so the database alone signs nobody in.
import type { ColumnType } from 'kysely';

/** bigint columns: PostgreSQL's driver returns them as strings, SQLite's as numbers. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface ConsoleTables {
  console_sessions: {
    /** hex SHA-256 of the cookie's secret. */
    id_hash: string;
    /** The identity signed in, as JSON (any account kind). */
    identity: string;
    /** hex SHA-256 of the stored credential hash at sign-in, or null when it cannot be re-checked. */
    credential: string | null;
    /** The session's anti-forgery token, sent back by the page in a header on every change. */
    csrf: string;
    /** Milliseconds since the epoch. */
    created_at: BigIntColumn;
    last_seen_at: BigIntColumn;
    expires_at: BigIntColumn;
  };
}
