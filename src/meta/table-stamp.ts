// A cheap token for "has this table changed?", read on every ask by the catalogs that keep parsed
// rows (replication and trust policies): a change by another process (the CLI, another replica)
// is seen at the next read, with no time window. The row count catches a removal, the latest
// `updated_at` a write.
import type { Kysely } from 'kysely';
import type { MetaTables } from './tables/index.js';

export async function tableStamp(db: Kysely<MetaTables>, table: 'replication_policies' | 'trust_policies'): Promise<string> {
  const r = await db.selectFrom(table)
    .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.max('updated_at').as('at')])
    .executeTakeFirstOrThrow();
  return `${r.n}:${r.at ?? ''}`;
}
