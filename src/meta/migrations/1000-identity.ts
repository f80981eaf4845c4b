// Identity: personal access tokens, and the users that LDAP or OpenID Connect signed in (see tables/identity.ts).
import type { Kysely, Migration } from 'kysely';

export const identity: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('auth_access_tokens')
      .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
      .addColumn('owner', 'varchar(255)', (c) => c.notNull())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('secret_hash', 'varchar(128)', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(40)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('last_used_at', 'varchar(40)')
      .addColumn('revoked_at', 'varchar(40)')
      .execute();
    await db.schema.createIndex('auth_access_tokens_owner').on('auth_access_tokens').columns(['owner', 'created_at']).execute();
    await db.schema.createTable('auth_external_users')
      .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('source', 'varchar(16)', (c) => c.notNull())
      .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('roles', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'varchar(40)', (c) => c.notNull())
      .execute();
  },
};
