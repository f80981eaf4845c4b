// Reference tracking, storage usage and the GC review queue (see tables/references.ts). Names
// sort bytewise as in the listing index (0300): PostgreSQL columns holding names are "C".
import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';

export const gcReferences: Migration = {
  async up(db: Kysely<unknown>) {
    const name = db.getExecutor().adapter instanceof PostgresAdapter
      ? (c: ColumnDefinitionBuilder) => c.modifyFront(sql`collate "C"`).notNull()
      : (c: ColumnDefinitionBuilder) => c.notNull();
    const digest = (c: ColumnDefinitionBuilder) => c.notNull();
    await db.schema.createTable('berth_ref_manifest')
      .addColumn('repository', 'varchar(255)', name)
      .addColumn('digest', 'varchar(160)', digest)
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('subject', 'varchar(160)')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_ref_manifest_pk', ['repository', 'digest'])
      .execute();
    await db.schema.createIndex('berth_ref_manifest_subject').on('berth_ref_manifest').columns(['repository', 'subject']).execute();
    await db.schema.createTable('berth_ref_manifest_blob')
      .addColumn('repository', 'varchar(255)', name)
      .addColumn('manifest', 'varchar(160)', digest)
      .addColumn('blob', 'varchar(160)', digest)
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_ref_manifest_blob_pk', ['repository', 'manifest', 'blob'])
      .execute();
    await db.schema.createTable('berth_ref_child')
      .addColumn('repository', 'varchar(255)', name)
      .addColumn('parent', 'varchar(160)', digest)
      .addColumn('child', 'varchar(160)', digest)
      .addPrimaryKeyConstraint('berth_ref_child_pk', ['repository', 'parent', 'child'])
      .execute();
    await db.schema.createIndex('berth_ref_child_child').on('berth_ref_child').columns(['repository', 'child']).execute();
    await db.schema.createTable('berth_usage_repository_blob')
      .addColumn('repository', 'varchar(255)', name)
      .addColumn('blob', 'varchar(160)', digest)
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('refs', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_usage_repository_blob_pk', ['repository', 'blob'])
      .execute();
    await db.schema.createIndex('berth_usage_repository_blob_blob').on('berth_usage_repository_blob').columns(['blob']).execute();
    await db.schema.createTable('berth_usage_project_blob')
      .addColumn('project', 'varchar(255)', name)
      .addColumn('blob', 'varchar(160)', digest)
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('refs', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_usage_project_blob_pk', ['project', 'blob'])
      .execute();
    await db.schema.createIndex('berth_usage_project_blob_blob').on('berth_usage_project_blob').columns(['blob']).execute();
    await db.schema.createTable('berth_usage_repository')
      .addColumn('repository', 'varchar(255)', (c) => name(c).primaryKey())
      .addColumn('project', 'varchar(255)', name)
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('manifests', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('berth_usage_repository_project').on('berth_usage_repository').columns(['project', 'repository']).execute();
    await db.schema.createTable('berth_usage_project')
      .addColumn('project', 'varchar(255)', (c) => name(c).primaryKey())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('berth_gc_review')
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('repository', 'varchar(255)', name)
      .addColumn('digest', 'varchar(160)', digest)
      .addColumn('reason', 'varchar(32)', (c) => c.notNull())
      .addColumn('queued_at', 'bigint', (c) => c.notNull())
      .addColumn('due_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('berth_gc_review_pk', ['kind', 'repository', 'digest'])
      .execute();
    await db.schema.createIndex('berth_gc_review_due').on('berth_gc_review').columns(['due_at']).execute();
  },
};
