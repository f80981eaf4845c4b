// The notification queues (see tables/events.ts).
import type { Kysely, Migration } from 'kysely';

export const events: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('berth_event_queue')
      .addColumn('endpoint', 'varchar(200)', (c) => c.notNull())
      .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('action', 'varchar(32)', (c) => c.notNull())
      .addColumn('repository', 'varchar(512)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('dead_at', 'bigint')
      .addPrimaryKeyConstraint('berth_event_queue_pk', ['endpoint', 'event_id'])
      .execute();
    await db.schema.createIndex('berth_event_queue_due').on('berth_event_queue')
      .columns(['endpoint', 'dead_at', 'next_attempt_at', 'seq']).execute();
  },
};
