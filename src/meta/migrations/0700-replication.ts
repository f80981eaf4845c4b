// Replication's jobs, endpoints and policies (see tables/replication.ts).
import { sql, type Kysely, type Migration } from 'kysely';

export const replication: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('replication_jobs')
      .addColumn('id', 'varchar(200)', (c) => c.primaryKey())
      .addColumn('policy', 'varchar(100)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('repository', 'varchar(512)', (c) => c.notNull())
      .addColumn('reference', 'varchar(200)', (c) => c.notNull())
      .addColumn('subject', 'varchar(900)', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('trigger', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'varchar(64)')
      .addColumn('lease_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('images', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // One queued job per subject (a burst of pushes to a tag is one job), and one running: two
    // replicas never copy the same tag at once, so an older copy never lands over a newer one.
    await db.schema.createIndex('replication_jobs_one_queued').on('replication_jobs').column('subject').unique()
      .where(sql.ref('state'), '=', 'queued').execute();
    await db.schema.createIndex('replication_jobs_one_running').on('replication_jobs').column('subject').unique()
      .where(sql.ref('state'), '=', 'running').execute();
    await db.schema.createIndex('replication_jobs_due').on('replication_jobs').columns(['state', 'next_attempt_at']).execute();
    await db.schema.createIndex('replication_jobs_history').on('replication_jobs').columns(['policy', 'created_at']).execute();
    await db.schema.createTable('replication_endpoints')
      .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('username', 'text')
      .addColumn('password_sealed', 'text')
      .addColumn('insecure', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('ca', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('replication_policies')
      .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
