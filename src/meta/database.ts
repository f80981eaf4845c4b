// The metadata database (users, projects, audit, event queues, the listing index): Kysely over
// better-sqlite3 embedded by default, or PostgreSQL for several replicas. Opening it applies any
// pending migration, so every process sees the schema it was built for.
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type MigrationProvider } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetaTables } from './tables/index.js';
import { MIGRATIONS } from './migrations/index.js';

export type MetaDialect = 'sqlite' | 'postgres';

export type MetaDatabaseOptions =
  | { sqlite: { path: string } }
  | { postgres: { url: string; poolSize?: number } };

export interface MetaDatabase {
  readonly db: Kysely<MetaTables>;
  readonly dialect: MetaDialect;
  close(): Promise<void>;
}

export class MetaDatabaseError extends Error {}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function openMetaDatabase(options: MetaDatabaseOptions): Promise<MetaDatabase> {
  const { db, dialect } = 'postgres' in options ? await openPostgres(options.postgres) : await openSqlite(options.sqlite.path);
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MetaDatabaseError(`metadata database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
  return { db, dialect, close: () => db.destroy() };
}

async function openSqlite(path: string): Promise<{ db: Kysely<MetaTables>; dialect: MetaDialect }> {
  const { default: Database } = await import('better-sqlite3');
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  // WAL lets readers proceed while a writer commits; the busy timeout covers a second process
  // (`berth gc`, `berth user add`) writing while `berth serve` runs.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return { db: new Kysely<MetaTables>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: 'sqlite' };
}

async function openPostgres(opts: { url: string; poolSize?: number }): Promise<{ db: Kysely<MetaTables>; dialect: MetaDialect }> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10 });
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end();
    throw new MetaDatabaseError(`cannot reach PostgreSQL at ${redactUrl(opts.url)}: ${(err as Error).message}`);
  }
  return { db: new Kysely<MetaTables>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
