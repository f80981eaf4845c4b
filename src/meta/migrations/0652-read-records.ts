// Records the read API shows that nothing kept before: garbage collection runs with their
// reports (tables/gc-runs.ts) and the pull-through cache's counters per upstream
// (tables/proxy-stats.ts).
import { sql, type Kysely, type Migration } from 'kysely';

export const readRecords: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('berth_gc_run')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('duration_ms', 'bigint', (c) => c.notNull())
      .addColumn('trigger', 'varchar(16)', (c) => c.notNull())
      .addColumn('actor', 'varchar(255)')
      .addColumn('dry_run', 'integer', (c) => c.notNull())
      .addColumn('blobs', 'integer', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('manifests', 'integer', (c) => c.notNull())
      .addColumn('layer_links', 'integer', (c) => c.notNull())
      .addColumn('report', 'text', (c) => c.notNull())
      .execute();
    const counter = (name: string) => (t: ReturnType<typeof db.schema.createTable>) => t.addColumn(name, 'bigint', (c) => c.notNull().defaultTo(sql`0`));
    let stats = db.schema.createTable('berth_proxy_upstream_stats').addColumn('upstream', 'varchar(200)', (c) => c.primaryKey());
    for (const name of ['manifest_hits', 'blob_hits', 'manifest_misses', 'blob_misses', 'served_bytes', 'fetched_bytes', 'errors', 'updated_at']) stats = counter(name)(stats);
    await stats.execute();
  },
};
