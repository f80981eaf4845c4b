// The persistent per-endpoint queue in the metadata database (SQLite or PostgreSQL): events
// wait here until their endpoint accepts them, so a restart or an endpoint outage loses none.
// Rows out of attempts are kept with `dead_at` set: the dead-letter list.
import type { Kysely } from 'kysely';
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
}

type Row = {
  endpoint: string; event_id: string; payload: string; attempts: number;
  last_error: string | null; created_at: number | string; dead_at: number | string | null;
};

export class EventQueue {
  readonly #db: Kysely<MetaTables>;
  #lastSeq = 0;

  constructor(db: Kysely<MetaTables>) {
    this.#db = db;
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

  /** The oldest events of `endpoint` due for an attempt at `now`. */
  async due(endpoint: string, now: number, limit: number): Promise<QueuedEvent[]> {
    const rows = await this.#db.selectFrom('berth_event_queue')
      .select(['endpoint', 'event_id', 'payload', 'attempts', 'last_error', 'created_at', 'dead_at'])
      .where('endpoint', '=', endpoint).where('dead_at', 'is', null).where('next_attempt_at', '<=', now)
      .orderBy('seq').orderBy('event_id').limit(limit).execute();
    return rows.map(toQueued);
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
        await tx.updateTable('berth_event_queue')
          .set({ attempts, last_error: error.slice(0, 2000), next_attempt_at: retryAt, dead_at: isDead ? now : null })
          .where('endpoint', '=', endpoint).where('event_id', '=', e.eventId).execute();
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
    let q = this.#db.selectFrom('berth_event_queue')
      .select(['endpoint', 'event_id', 'payload', 'attempts', 'last_error', 'created_at', 'dead_at'])
      .where('dead_at', 'is not', null);
    if (endpoint !== undefined) q = q.where('endpoint', '=', endpoint);
    return (await q.orderBy('seq').orderBy('endpoint').execute()).map(toQueued);
  }

  /** Puts dead letters back in their queues with fresh attempts; returns how many. */
  async requeueDeadLetters(endpoint?: string): Promise<number> {
    let q = this.#db.updateTable('berth_event_queue')
      .set({ dead_at: null, attempts: 0, next_attempt_at: Date.now() })
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
  };
}
