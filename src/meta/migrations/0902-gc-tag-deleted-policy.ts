// Which retention rules deleted a tag (berth_tag_deleted.policy), so a pull of it can say so.
import type { Kysely, Migration } from 'kysely';

export const gcTagDeletedPolicy: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('berth_tag_deleted').addColumn('policy', 'varchar(512)').execute();
  },
};
