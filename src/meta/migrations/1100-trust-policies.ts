// Trust policies added through the admin API or `berth trust policy put` (config.yml's live in
// the configuration). The body is the policy as the API took it, its keys and certificates inline
// (PEM): the caller is remote, so no file of theirs can be named.
import type { Kysely, Migration } from 'kysely';

export const trustPolicies: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('trust_policies')
      .addColumn('name', 'varchar(100)', (c) => c.primaryKey())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
