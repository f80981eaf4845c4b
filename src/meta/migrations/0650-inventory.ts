// The read API's inventory (see tables/inventory.ts). Name and digest columns compare bytewise on
// PostgreSQL ("C"), as the listing index's do, so the two join and sort alike.
import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';

export const inventory: Migration = {
  async up(db: Kysely<unknown>) {
    const bytewise = db.getExecutor().adapter instanceof PostgresAdapter
      ? (c: ColumnDefinitionBuilder) => c.modifyFront(sql`collate "C"`).notNull()
      : (c: ColumnDefinitionBuilder) => c.notNull();
    await db.schema.createTable('berth_inventory_artifact')
      .addColumn('repository', 'varchar(255)', bytewise)
      .addColumn('digest', 'varchar(160)', bytewise)
      .addColumn('media_type', 'varchar(255)', (c) => c.notNull())
      .addColumn('artifact_type', 'varchar(255)')
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('subject', 'varchar(160)')
      .addColumn('config_digest', 'varchar(160)')
      .addColumn('manifest_size', 'bigint', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('platforms', 'text', (c) => c.notNull())
      .addColumn('created', 'varchar(64)')
      .addColumn('annotations', 'text', (c) => c.notNull())
      .addColumn('blobs', 'text', (c) => c.notNull())
      .addColumn('pushed_at', 'bigint')
      .addColumn('last_pulled_at', 'bigint')
      .addPrimaryKeyConstraint('berth_inventory_artifact_pk', ['repository', 'digest'])
      .execute();
    await db.schema.createIndex('berth_inventory_artifact_pushed').on('berth_inventory_artifact').columns(['repository', 'pushed_at']).execute();
    await db.schema.createIndex('berth_inventory_artifact_subject').on('berth_inventory_artifact').columns(['repository', 'subject']).execute();
    await db.schema.createTable('berth_inventory_blob')
      .addColumn('repository', 'varchar(255)', bytewise)
      .addColumn('digest', 'varchar(160)', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('refs', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_inventory_blob_pk', ['repository', 'digest'])
      .execute();
    await db.schema.createTable('berth_inventory_child')
      .addColumn('repository', 'varchar(255)', bytewise)
      .addColumn('parent', 'varchar(160)', (c) => c.notNull())
      .addColumn('child', 'varchar(160)', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_inventory_child_pk', ['repository', 'parent', 'child'])
      .execute();
    await db.schema.createIndex('berth_inventory_child_child').on('berth_inventory_child').columns(['repository', 'child']).execute();
    await db.schema.createTable('berth_inventory_repository')
      .addColumn('name', 'varchar(255)', bytewise)
      .addColumn('last_push_at', 'bigint')
      .addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('artifacts', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('berth_inventory_repository_pk', ['name'])
      .execute();
    await db.schema.createIndex('berth_inventory_repository_push').on('berth_inventory_repository').columns(['last_push_at']).execute();
    await db.schema.createIndex('berth_inventory_repository_size').on('berth_inventory_repository').columns(['size']).execute();
  },
};
