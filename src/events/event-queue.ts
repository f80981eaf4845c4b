// The persistent per-endpoint queue in the metadata database (SQLite or PostgreSQL): events
// wait here until their endpoint accepts them, so a restart or an endpoint outage loses none.
// Rows out of attempts are kept with `dead_at` set: the dead-letter list.
// Replicas share the queue, so a sender first claims rows: one atomic UPDATE marks them with its
// claim and moves `next_attempt_at` to the end of a lease. Another replica skips them until then;
// a replica that dies holding them only delays them to the lease's end, when they are due again.
import { randomUUID } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { DistributionEvent } from './envelope.js';

export interface QueuedEvent {
  endpoint: string;
  eventId: string;
  event: DistributionEvent;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deadAt: Date | null;
  /** The claim holding the row (set on what `claim` returns). */
  claim: string | null;
}

type Row = {
  endpoint: string; event_id: string; payload: string; attempts: number;
  last_error: string | null; created_at: number | string; dead_at: number | string | null; claim: string | null;
};

const COLUMNS = ['endpoint', 'event_id', 'payload', 'attempts', 'last_error', 'created_at', 'dead_at', 'claim', 'seq'] as const;

export class EventQueue {
  readonly #db: Kysely<MetaTables>;
  /** PostgreSQL locks the rows it picks and skips those another replica is claiming. */
  readonly #postgres: boolean;
  #lastSeq = 0;

  constructor(db: Kysely<MetaTables>) {
    this.#db = db;
    this.#postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /** A strictly increasing number for ordering, valid across restarts (time-based). */
  #nextSeq(): number {
    this.#lastSeq = Math.max(this.#lastSeq + 1, Date.now() * 1000);
    return this.#lastSeq;
  }

  async enqueue(endpoints: string[], event: DistributionEvent): Promise<void> {
    if (endpoints.length === 0) return;
    const now = Date.now();
    const seq = this.#nextSeq();
    await this.#db.insertInto('berth_event_queue').values(endpoints.map((endpoint) => ({
      endpoint, event_id: event.id, seq, payload: JSON.stringify(event), action: event.action,
      repository: event.target.repository, attempts: 0, next_attempt_at: now, created_at: now, last_error: null, dead_at: null,
    }))).execute();
  }

  /**
   * Claims the oldest events of `endpoint` due at `now`, for `leaseMs`: no other claim gets them
   * until the lease ends, nor after `delivered`, `failed` or `release`.
   */
  async claim(endpoint: string, now: number, limit: number, leaseMs: number): Promise<QueuedEvent[]> {
    let pick = this.#db.selectFrom('berth_event_queue').select('event_id')
      .where('endpoint', '=', endpoint).where('dead_at', 'is', null).where('next_attempt_at', '<=', now)
      .orderBy('seq').orderBy('event_id').limit(limit);
    // SQLite has one writer at a time, so its UPDATE is atomic as it stands.
    if (this.#postgres) pick = pick.forUpdate().skipLocked();
    // A materialized CTE picks once: as a plain IN (subquery) PostgreSQL may run the LIMIT
    // subquery more than once and claim more rows than asked (seen in the tests).
    const rows = await this.#db.with((cte) => cte('picked').materialized(), () => pick)
      .updateTable('berth_event_queue')
      .set({ claim: randomUUID(), next_attempt_at: now + leaseMs })
      .where('endpoint', '=', endpoint).where('event_id', 'in', (eb) => eb.selectFrom('picked').select('event_id'))
      .returning(COLUMNS).execute();
    // RETURNING keeps no order.
    rows.sort((a, b) => Number(a.seq) - Number(b.seq) || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
    return rows.map(toQueued);
  }

  /** Gives claimed events back, due at once (a sender stopping mid-attempt). */
  async release(endpoint: string, events: QueuedEvent[]): Promise<void> {
    const claims = [...new Set(events.map((e) => e.claim).filter((c) => c !== null))];
    if (claims.length === 0) return;
    await this.#db.updateTable('berth_event_queue').set({ claim: null, next_attempt_at: Date.now() })
      .where('endpoint', '=', endpoint).where('claim', 'in', claims).where('event_id', 'in', events.map((e) => e.eventId)).execute();
  }

  /** When the next live event of `endpoint` is due, or undefined when none waits. */
  async nextDue(endpoint: string): Promise<number | undefined> {
    const row = await this.#db.selectFrom('berth_event_queue').select((eb) => eb.fn.min('next_attempt_at').as('next'))
      .where('endpoint', '=', endpoint).where('dead_at', 'is', null).executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }

  async delivered(endpoint: string, eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.#db.deleteFrom('berth_event_queue').where('endpoint', '=', endpoint).where('event_id', 'in', eventIds).execute();
  }

  /** Records a failed attempt: retried at `retryAt`, or dead when `attempts` reaches `maxAttempts` (>0). */
  async failed(endpoint: string, events: QueuedEvent[], error: string, retryAt: number, maxAttempts: number): Promise<number> {
    let dead = 0;
    const now = Date.now();
    await this.#db.transaction().execute(async (tx) => {
      for (const e of events) {
        const attempts = e.attempts + 1;
        const isDead = maxAttempts > 0 && attempts >= maxAttempts;
        if (isDead) dead++;
        let q = tx.updateTable('berth_event_queue')
          .set({ attempts, last_error: error.slice(0, 2000), next_attempt_at: retryAt, dead_at: isDead ? now : null, claim: null })
          .where('endpoint', '=', endpoint).where('event_id', '=', e.eventId);
        // A lease that ran out may have passed the row to another replica: its record wins.
        if (e.claim !== null) q = q.where('claim', '=', e.claim);
        await q.execute();
      }
    });
    return dead;
  }

  async pendingCount(endpoint: string): Promise<number> {
    const row = await this.#db.selectFrom('berth_event_queue').select((eb) => eb.fn.countAll().as('n'))
      .where('endpoint', '=', endpoint).where('dead_at', 'is', null).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The dead-letter list, oldest first; of one endpoint or all. */
  async deadLetters(endpoint?: string): Promise<QueuedEvent[]> {
    let q = this.#db.selectFrom('berth_event_queue').select(COLUMNS).where('dead_at', 'is not', null);
    if (endpoint !== undefined) q = q.where('endpoint', '=', endpoint);
    return (await q.orderBy('seq').orderBy('endpoint').execute()).map(toQueued);
  }

  /** One page of the dead-letter list, oldest first, after `after` (the `next` of the page before). */
  async deadLetterPage(q: { endpoint?: string | undefined; limit: number; after?: { seq: number; key: string } | undefined }): Promise<{ items: QueuedEvent[]; next: { seq: number; key: string } | undefined }> {
    let query = this.#db.selectFrom('berth_event_queue').select(COLUMNS).where('dead_at', 'is not', null);
    if (q.endpoint !== undefined) query = query.where('endpoint', '=', q.endpoint);
    if (q.after) query = query.where(sql<boolean>`(seq, endpoint) > (${q.after.seq}, ${q.after.key})`);
    const rows = await query.orderBy('seq').orderBy('endpoint').limit(q.limit + 1).execute();
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { items: page.map(toQueued), next: rows.length > q.limit && last ? { seq: Number(last.seq), key: last.endpoint } : undefined };
  }

  /** Puts dead letters back in their queues with fresh attempts; returns how many. */
  async requeueDeadLetters(endpoint?: string): Promise<number> {
    let q = this.#db.updateTable('berth_event_queue')
      .set({ dead_at: null, attempts: 0, next_attempt_at: Date.now(), claim: null })
      .where('dead_at', 'is not', null);
    if (endpoint !== undefined) q = q.where('endpoint', '=', endpoint);
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

function toQueued(r: Row): QueuedEvent {
  return {
    endpoint: r.endpoint,
    eventId: r.event_id,
    event: JSON.parse(r.payload) as DistributionEvent,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: new Date(Number(r.created_at)),
    deadAt: r.dead_at === null ? null : new Date(Number(r.dead_at)),
    claim: r.claim,
  };
}
