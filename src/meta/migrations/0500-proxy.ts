// The pull-through cache's bookkeeping (see tables/proxy.ts).
import type { Kysely, Migration } from 'kysely';

export const proxy: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('proxy_cache_entries')
      .addColumn('upstream', 'text', (c) => c.notNull())
      .addColumn('repository', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('fetched_at', 'bigint', (c) => c.notNull())
      .addColumn('last_pulled_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('proxy_cache_entries_pk', ['upstream', 'repository', 'digest'])
      .execute();
    // Eviction walks an upstream's entries least recently pulled first.
    await db.schema.createIndex('proxy_cache_entries_lru').on('proxy_cache_entries')
      .columns(['upstream', 'last_pulled_at']).execute();
    await db.schema.createTable('proxy_cache_tags')
      .addColumn('upstream', 'text', (c) => c.notNull())
      .addColumn('repository', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('validated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('proxy_cache_tags_pk', ['upstream', 'repository', 'tag'])
      .execute();
  },
};
