// Leases on the notification queues: a replica claims rows before it posts them, so replicas
// sharing one database never send the same event at once (see events/event-queue.ts). The lease
// ends at `next_attempt_at`; a replica that dies holding rows only delays them until then.
import type { Kysely, Migration } from 'kysely';

export const eventsLease: Migration = {
  async up(db: Kysely<unknown>) {
    // The claim that holds a row: whoever claimed it last; null when no one has.
    await db.schema.alterTable('berth_event_queue').addColumn('claim', 'varchar(64)').execute();
  },
};
