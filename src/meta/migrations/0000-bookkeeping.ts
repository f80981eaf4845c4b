// The first migration: a key/value table recording when this database was created.
import { sql, type Kysely, type Migration } from 'kysely';

export const bookkeeping: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('berth_meta')
      .addColumn('key', 'varchar(200)', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into berth_meta (key, value) values ('created_at', ${new Date().toISOString()})`.execute(db);
  },
};
