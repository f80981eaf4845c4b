// Endpoints of config.yml are stored too (their passwords sealed at rest like the API's), told
// apart by `origin`: the API's rows are changed through the API and CLI, config.yml's follow
// the configuration at each start.
import type { Kysely, Migration } from 'kysely';

export const replicationOrigin: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('replication_endpoints').addColumn('origin', 'varchar(16)', (c) => c.notNull().defaultTo('api')).execute();
  },
};
