// The listing index (see tables/listing.ts). Names sort bytewise, as the OCI distribution spec's
// pagination and Distribution do: PostgreSQL's default collation follows the locale, so its
// name columns are declared with the "C" collation.
import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';

export const listing: Migration = {
  async up(db: Kysely<unknown>) {
    const bytewise = db.getExecutor().adapter instanceof PostgresAdapter
      ? (c: ColumnDefinitionBuilder) => c.modifyFront(sql`collate "C"`).notNull()
      : (c: ColumnDefinitionBuilder) => c.notNull();
    await db.schema.createTable('berth_listing_repository')
      .addColumn('name', 'varchar(255)', bytewise)
      .addColumn('present', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('berth_listing_repository_pk', ['name'])
      .execute();
    await db.schema.createTable('berth_listing_tag')
      .addColumn('repository', 'varchar(255)', bytewise)
      .addColumn('tag', 'varchar(128)', bytewise)
      .addColumn('digest', 'varchar(160)', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_listing_tag_pk', ['repository', 'tag'])
      .execute();
    await db.schema.createIndex('berth_listing_tag_digest').on('berth_listing_tag').columns(['repository', 'digest']).execute();
    await db.schema.createTable('berth_listing_referrer')
      .addColumn('repository', 'varchar(255)', bytewise)
      .addColumn('subject', 'varchar(160)', (c) => c.notNull())
      .addColumn('referrer', 'varchar(160)', bytewise)
      .addPrimaryKeyConstraint('berth_listing_referrer_pk', ['repository', 'subject', 'referrer'])
      .execute();
    await db.schema.createTable('berth_listing_intent')
      .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
      .addColumn('repository', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('berth_listing_intent_repository').on('berth_listing_intent').columns(['repository']).execute();
  },
};
