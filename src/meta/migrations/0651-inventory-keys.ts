// The read API's keyset walks (src/inventory/artifact-list.ts, repository-list.ts): a page of 100
// out of thousands is read in the order of an index, never by sorting every row. A repository's
// artifacts by push time: the query's own key expression (never-pushed rows last), ties by digest
// in the same direction. Repositories by last push or size: ties by name ascending in either
// direction, hence an index per direction. They replace 0650's single-column indexes. By name,
// each tag's artifact is kept only at its first tag: (repository, digest, tag) answers that.
import { sql, type Kysely, type Migration } from 'kysely';

export const inventoryKeys: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`create index berth_inventory_artifact_push_key on berth_inventory_artifact (repository, (coalesce(pushed_at, -1)), digest)`.execute(db);
    await db.schema.dropIndex('berth_inventory_artifact_pushed').execute();
    // By name: each artifact at its first tag only, checked per tag without reading the smaller tags.
    await db.schema.createIndex('berth_listing_tag_digest_tag').on('berth_listing_tag').columns(['repository', 'digest', 'tag']).execute();
    for (const column of ['last_push_at', 'size']) {
      await sql`create index ${sql.id(`berth_inventory_repository_${column}_asc`)} on berth_inventory_repository (${sql.ref(column)}, name)`.execute(db);
      await sql`create index ${sql.id(`berth_inventory_repository_${column}_desc`)} on berth_inventory_repository (${sql.ref(column)} desc, name)`.execute(db);
    }
    await db.schema.dropIndex('berth_inventory_repository_push').execute();
    await db.schema.dropIndex('berth_inventory_repository_size').execute();
  },
};
