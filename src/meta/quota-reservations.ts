// Quota checks that hold across processes sharing the metadata database (replicas on
// PostgreSQL). A manifest PUT checks and reserves its bytes in one transaction under the
// project's lock (PostgreSQL: a transaction-scoped advisory lock; SQLite: the write lock its
// first statement takes), then writes, then releases the reservation. A check counts what the
// project uses plus what other pushes have reserved, so two replicas cannot both take the last
// room. Reservations are read before usage: a push that commits its usage and drops its
// reservation between the two reads is counted once or twice, never missed (twice is a
// conservative refusal a retry clears). A reservation whose process died expires after `ttlMs`.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { MetaDatabase } from './database.js';
import { newBytesIn, projectBytesIn } from './usage.js';

export interface QuotaFigures {
  /** What the project's manifests hold. */
  used: number;
  /** Reserved by pushes in flight (in any process). */
  reserved: number;
  /** What this push adds to the project. */
  adding: number;
}

export class QuotaReservations {
  readonly #meta: MetaDatabase;
  readonly #ttlMs: number;

  constructor(meta: MetaDatabase, ttlMs = 10 * 60_000) {
    this.#meta = meta;
    this.#ttlMs = ttlMs;
  }

  /**
   * Under the project's lock: computes the figures, lets `decide` refuse (by throwing), and
   * reserves `adding`. Returns the release, which the caller runs once its write is done or failed.
   */
  async reserve(project: string, blobs: { digest: string; size: number }[], decide: (f: QuotaFigures) => void): Promise<() => Promise<void>> {
    const id = randomUUID();
    const now = Date.now();
    const adding = await this.#meta.db.transaction().execute(async (trx) => {
      if (this.#meta.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`berth-quota:${project}`}))`.execute(trx);
      await trx.deleteFrom('berth_quota_reservation').where('expires_at', '<', now).execute();
      const r = await trx.selectFrom('berth_quota_reservation').select(sql<number | string | null>`sum(bytes)`.as('n')).where('project', '=', project).executeTakeFirst();
      const figures = { reserved: Number(r?.n ?? 0), used: await projectBytesIn(trx, project), adding: await newBytesIn(trx, project, blobs) };
      decide(figures);
      if (figures.adding > 0) await trx.insertInto('berth_quota_reservation').values({ id, project, bytes: figures.adding, expires_at: now + this.#ttlMs }).execute();
      return figures.adding;
    });
    if (adding === 0) return async () => {};
    return async () => { await this.#meta.db.deleteFrom('berth_quota_reservation').where('id', '=', id).execute(); };
  }
}
