// The metadata database (users, projects, audit, event queues, the listing index): Kysely over
// better-sqlite3 embedded by default, or PostgreSQL for several replicas. Opening it applies any
// pending migration, so every process sees the schema it was built for.
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type MigrationProvider } from 'kysely';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
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

export interface OpenMetaOptions {
  /** Told what was wrong but mended on the way (a database readable by others); stderr by default. */
  warn?: (message: string) => void;
}

export async function openMetaDatabase(options: MetaDatabaseOptions, open: OpenMetaOptions = {}): Promise<MetaDatabase> {
  const warn = open.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const { db, dialect, settle } = 'postgres' in options ? await openPostgres(options.postgres) : await openSqlite(options.sqlite.path, warn);
  // Features own numbered ranges and land in parallel: a database that already ran a later range
  // still takes a lower-numbered migration that landed after it.
  const { error, results } = await new Migrator({ db, provider, allowUnorderedMigrations: true }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MetaDatabaseError(`metadata database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
  if (results && results.length > 0) settle?.();
  return { db, dialect, close: () => db.destroy() };
}

interface OpenedDatabase {
  db: Kysely<MetaTables>;
  dialect: MetaDialect;
  /** Run after migrations were applied. */
  settle?: () => void;
}

async function openSqlite(path: string, warn: (message: string) => void): Promise<OpenedDatabase> {
  const Database = await sqliteModule();
  if (path !== ':memory:' && path !== '') {
    mkdirSync(dirname(path), { recursive: true });
    ownerOnly(path, warn);
  }
  const sqlite = new Database(path);
  // WAL lets readers proceed while a writer commits; the busy timeout covers a second process
  // (`berth gc`, `berth user add`) writing while `berth serve` runs.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return {
    db: new Kysely<MetaTables>({ dialect: new SqliteDialect({ database: sqlite }) }),
    dialect: 'sqlite',
    // Creating the schema leaves about 1 MB of write-ahead log that SQLite would otherwise keep
    // until a thousand pages accumulate: fold it into the database once, so a new registry on a
    // small volume does not start with that space taken.
    settle: () => void sqlite.pragma('wal_checkpoint(TRUNCATE)'),
  };
}

/**
 * better-sqlite3 12 is the last to run on Node 20, and its statements abort Node 24.19+ when they
 * are collected (they still derive from node::ObjectWrap); 13 fixes that but needs Node 22. Both
 * are installed (13 as `better-sqlite3-node22`, a prebuilt Node-API addon) and the runtime picks.
 */
export async function sqliteModule(): Promise<typeof import('better-sqlite3')> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 22) {
    const name = 'better-sqlite3-node22';
    return ((await import(name)) as { default: typeof import('better-sqlite3') }).default;
  }
  return (await import('better-sqlite3')).default;
}

/**
 * The database holds password hashes, token records and audit trails: only its owner may read
 * it. A new file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
 * database file's mode); an existing one readable by others is tightened, with a warning.
 */
function ownerOnly(path: string, warn: (message: string) => void): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // no -wal or -shm yet
    }
    if ((mode & 0o077) === 0) continue;
    const was = mode.toString(8).padStart(4, '0');
    try {
      chmodSync(file, mode & 0o700);
      warn(`metadata database ${file} was readable by others (mode ${was}); it is now owner-only (${(mode & 0o700).toString(8).padStart(4, '0')})`);
    } catch (err) {
      warn(`metadata database ${file} is readable by others (mode ${was}) and could not be restricted: ${(err as Error).message}; chmod 600 it`);
    }
  }
}

async function openPostgres(opts: { url: string; poolSize?: number }): Promise<OpenedDatabase> {
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
