// Access control: users, projects, members, robots, audit (see tables/auth.ts).
import type { Kysely, Migration } from 'kysely';

export const auth: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('auth_users')
      .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createTable('auth_projects')
      .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('public', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('allow_from', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createTable('auth_members')
      .addColumn('project', 'varchar(255)', (c) => c.notNull().references('auth_projects.name').onDelete('cascade'))
      .addColumn('user_name', 'varchar(255)', (c) => c.notNull().references('auth_users.name').onDelete('cascade'))
      .addColumn('role', 'varchar(20)', (c) => c.notNull())
      .addPrimaryKeyConstraint('auth_members_pk', ['project', 'user_name'])
      .execute();
    await db.schema.createTable('auth_robots')
      .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('permissions', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(40)')
      .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
      .execute();
    await db.schema.createTable('auth_audit')
      .addColumn('id', 'varchar(80)', (c) => c.primaryKey())
      .addColumn('at', 'varchar(40)', (c) => c.notNull())
      .addColumn('actor', 'varchar(255)', (c) => c.notNull())
      .addColumn('address', 'varchar(64)', (c) => c.notNull())
      .addColumn('action', 'varchar(64)', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('auth_audit_at').on('auth_audit').columns(['at', 'id']).execute();
  },
};
