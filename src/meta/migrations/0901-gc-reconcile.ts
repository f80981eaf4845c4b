// The reconciler's first-seen records, restorable deleted tags and quota reservations (see
// tables/gc.ts). Names sort bytewise as in 0300/0900: PostgreSQL columns holding names are "C".
import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';

export const gcReconcile: Migration = {
  async up(db: Kysely<unknown>) {
    const name = db.getExecutor().adapter instanceof PostgresAdapter
      ? (c: ColumnDefinitionBuilder) => c.modifyFront(sql`collate "C"`).notNull()
      : (c: ColumnDefinitionBuilder) => c.notNull();
    await db.schema.createTable('berth_gc_orphan')
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('repository', 'varchar(255)', name)
      .addColumn('digest', 'varchar(160)', (c) => c.notNull())
      .addColumn('first_seen', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_gc_orphan_pk', ['kind', 'repository', 'digest'])
      .execute();
    await db.schema.createTable('berth_tag_deleted')
      .addColumn('repository', 'varchar(255)', name)
      .addColumn('tag', 'varchar(128)', name)
      .addColumn('digest', 'varchar(160)', (c) => c.notNull())
      .addColumn('reason', 'varchar(16)', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_tag_deleted_pk', ['repository', 'tag', 'digest'])
      .execute();
    await db.schema.createIndex('berth_tag_deleted_digest').on('berth_tag_deleted').columns(['repository', 'digest']).execute();
    await db.schema.createTable('berth_quota_reservation')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('project', 'varchar(255)', name)
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('berth_quota_reservation_project').on('berth_quota_reservation').columns(['project']).execute();
  },
};
