// Replication jobs in the metadata database (SQLite or PostgreSQL), shared by every replica.
// A job is queued, then claimed by one replica with a lease it renews while it runs; a replica
// that dies leaves it `running` with a lease that runs out, and whoever claims it next takes it
// over. Claims are conditional UPDATEs (one row changes or none), so two replicas never hold
// the same job; unique indexes allow one queued and one running job per subject, so a burst of
// pushes to one tag is one job, and two copies of one tag never run at once.
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { ReplicationJobState, ReplicationTables } from '../meta/tables/replication.js';

export type JobKind = 'tag' | 'digest' | 'run';
export type JobTrigger = 'event' | 'schedule' | 'manual' | 'retry';

export interface NewJob {
  policy: string;
  kind: JobKind;
  repository?: string;
  reference?: string;
  trigger: JobTrigger;
  /** A fixed id (a schedule's tick): the same id queued twice (by two replicas) is one job. */
  id?: string;
}

export interface JobCounts {
  images: number;
  bytes: number;
  skipped: number;
  failed: number;
}

export interface Job extends JobCounts {
  id: string;
  policy: string;
  kind: JobKind;
  repository: string;
  reference: string;
  state: ReplicationJobState;
  trigger: JobTrigger;
  attempts: number;
  nextAttemptAt: Date;
  leaseOwner: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  lastError: string | null;
}

type Row = Selectable<ReplicationTables['replication_jobs']>;

const date = (v: number | string | null): Date | null => (v === null ? null : new Date(Number(v)));

function toJob(r: Row): Job {
  return {
    id: r.id, policy: r.policy, kind: r.kind as JobKind, repository: r.repository, reference: r.reference, state: r.state,
    trigger: r.trigger as JobTrigger, attempts: r.attempts, nextAttemptAt: new Date(Number(r.next_attempt_at)),
    leaseOwner: r.lease_owner, createdAt: new Date(Number(r.created_at)), startedAt: date(r.started_at),
    finishedAt: date(r.finished_at), lastError: r.last_error,
    images: r.images, bytes: Number(r.bytes), skipped: r.skipped, failed: r.failed,
  };
}

/** A unique index said no (SQLite's constraint error, PostgreSQL's 23505). */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === '23505' || (typeof e?.code === 'string' && e.code.startsWith('SQLITE_CONSTRAINT')) || /UNIQUE constraint failed/.test(String(e?.message));
}

export const subjectOf = (j: { policy: string; kind: JobKind; repository?: string; reference?: string }): string =>
  `${j.policy}\n${j.kind}\n${j.repository ?? ''}\n${j.reference ?? ''}`;

export class JobStore {
  readonly #db: Kysely<MetaTables>;

  constructor(db: Kysely<MetaTables>) {
    this.#db = db;
  }

  /** Queues a job; false when one for the same subject is already queued (or the id exists). */
  async enqueue(job: NewJob, now = Date.now()): Promise<boolean> {
    try {
      await this.#db.insertInto('replication_jobs').values({
        id: job.id ?? `${now.toString(36)}-${randomUUID()}`, policy: job.policy, kind: job.kind,
        repository: job.repository ?? '', reference: job.reference ?? '', subject: subjectOf(job),
        state: 'queued', trigger: job.trigger, attempts: 0, next_attempt_at: now, created_at: now,
        lease_owner: null, lease_until: null, started_at: null, finished_at: null, last_error: null,
        images: 0, bytes: 0, skipped: 0, failed: 0,
      }).execute();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /**
   * Claims one job for `owner` until `now + leaseMs`: first a running job whose lease ran out (its
   * replica died), else the oldest queued job that is due and whose subject is not running.
   */
  async claim(owner: string, now: number, leaseMs: number): Promise<Job | undefined> {
    const stale = await this.#db.selectFrom('replication_jobs').select('id')
      .where('state', '=', 'running').where('lease_until', '<', now).orderBy('next_attempt_at').limit(5).execute();
    const due = await this.#db.selectFrom('replication_jobs as j').select('j.id')
      .where('j.state', '=', 'queued').where('j.next_attempt_at', '<=', now)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('replication_jobs as r').select('r.id')
        .whereRef('r.subject', '=', 'j.subject').where('r.state', '=', 'running'))))
      .orderBy('j.next_attempt_at').orderBy('j.created_at').limit(10).execute();
    for (const { id } of [...stale, ...due]) {
      try {
        const row = await this.#db.updateTable('replication_jobs')
          .set({ state: 'running', lease_owner: owner, lease_until: now + leaseMs, started_at: now })
          .where('id', '=', id)
          .where((eb) => eb.or([
            eb.and([eb('state', '=', 'running'), eb('lease_until', '<', now)]),
            eb.and([eb('state', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
          ]))
          .returningAll().executeTakeFirst();
        if (row) return toJob(row);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err; // its subject started running meanwhile
      }
    }
    return undefined;
  }

  /** Extends the lease; false when the job is no longer this owner's (taken over, or retried by hand). */
  async renew(id: string, owner: string, until: number): Promise<boolean> {
    const r = await this.#db.updateTable('replication_jobs').set({ lease_until: until })
      .where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'running').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Records a finished job (done) with its counts; false when the job was not this owner's any more. */
  async finish(id: string, owner: string, counts: JobCounts, error: string | null = null): Promise<boolean> {
    const r = await this.#db.updateTable('replication_jobs')
      .set({ state: 'done', finished_at: Date.now(), lease_owner: null, lease_until: null, last_error: error?.slice(0, 4000) ?? null, ...counts })
      .where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'running').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Hands a running job back to the queue, due at once (this replica is stopping). */
  async release(id: string, owner: string): Promise<void> {
    const mine = this.#db.updateTable('replication_jobs').where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'running');
    try {
      await mine.set({ state: 'queued', lease_owner: null, lease_until: null, next_attempt_at: Date.now() }).execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await mine.set({ state: 'done', lease_owner: null, lease_until: null, finished_at: Date.now(), last_error: 'superseded by a newer queued job' }).execute();
    }
  }

  /**
   * Records a failed attempt: queued again for `retryAt`, or parked (kept with its error until
   * retried by hand) when `park`. A newer job of the same subject already queued does the retry,
   * so this one is closed instead.
   */
  async fail(id: string, owner: string, error: string, counts: JobCounts, outcome: { park: true } | { retryAt: number }): Promise<ReplicationJobState | undefined> {
    const base = { lease_owner: null, lease_until: null, last_error: error.slice(0, 4000), ...counts };
    const where = this.#db.updateTable('replication_jobs').where('id', '=', id).where('lease_owner', '=', owner).where('state', '=', 'running');
    const state: ReplicationJobState = 'park' in outcome ? 'parked' : 'queued';
    try {
      const r = await where.set((eb) => ({
        ...base, state, attempts: eb('attempts', '+', 1),
        ...('park' in outcome ? { finished_at: Date.now() } : { next_attempt_at: outcome.retryAt }),
      })).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1 ? state : undefined;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await where.set((eb) => ({ ...base, state: 'done', finished_at: Date.now(), attempts: eb('attempts', '+', 1), last_error: `superseded by a newer job; last error: ${error}`.slice(0, 4000) })).execute();
      return 'done';
    }
  }

  /** Queues parked jobs again with fresh attempts: one by id, or all of a policy (or all). */
  async retry(filter: { id?: string; policy?: string }): Promise<number> {
    let q = this.#db.selectFrom('replication_jobs').select('id').where('state', '=', 'parked');
    if (filter.id !== undefined) q = q.where('id', '=', filter.id);
    if (filter.policy !== undefined) q = q.where('policy', '=', filter.policy);
    let n = 0;
    for (const { id } of await q.execute()) {
      try {
        const r = await this.#db.updateTable('replication_jobs')
          .set({ state: 'queued', attempts: 0, next_attempt_at: Date.now(), trigger: 'retry', finished_at: null })
          .where('id', '=', id).where('state', '=', 'parked').executeTakeFirst();
        n += Number(r.numUpdatedRows);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // The same subject is queued already: that job does it.
        await this.#db.updateTable('replication_jobs').set({ state: 'done', last_error: 'retried by a newer queued job' }).where('id', '=', id).execute();
        n++;
      }
    }
    return n;
  }

  async get(id: string): Promise<Job | undefined> {
    const row = await this.#db.selectFrom('replication_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** The newest jobs first: of one policy, or all; optionally in one state. */
  async history(filter: { policy?: string; state?: ReplicationJobState; limit?: number } = {}): Promise<Job[]> {
    let q = this.#db.selectFrom('replication_jobs').selectAll();
    if (filter.policy !== undefined) q = q.where('policy', '=', filter.policy);
    if (filter.state !== undefined) q = q.where('state', '=', filter.state);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(Math.min(filter.limit ?? 50, 10_000)).execute();
    return rows.map(toJob);
  }

  /** Jobs per state of each policy (for `list` and the lag gauge). */
  async summary(): Promise<Array<{ policy: string; state: ReplicationJobState; count: number; oldest: number }>> {
    const rows = await this.#db.selectFrom('replication_jobs')
      .select((eb) => ['policy', 'state', eb.fn.countAll().as('count'), eb.fn.min('created_at').as('oldest')])
      .groupBy(['policy', 'state']).execute();
    return rows.map((r) => ({ policy: r.policy, state: r.state, count: Number(r.count), oldest: Number(r.oldest) }));
  }

  /** When the next queued job is due (undefined: none). */
  async nextDue(): Promise<number | undefined> {
    const row = await this.#db.selectFrom('replication_jobs').select((eb) => eb.fn.min('next_attempt_at').as('next'))
      .where('state', '=', 'queued').executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }
}
