// The registry's storage in one figure: every blob any repository references, counted once
// (a blob shared by two projects counts once here, once in each project's own usage), from the
// per-project blob counts the reference writer keeps (src/meta/usage-counter.ts).
import { sql, type Kysely } from 'kysely';
import type { MetaTables } from './tables/index.js';

export interface StorageTotal {
  totalBytes: number;
  blobs: number;
  projects: number;
  repositories: number;
}

export async function storageTotal(db: Kysely<MetaTables>): Promise<StorageTotal> {
  const distinct = db.selectFrom('berth_usage_project_blob').select(['blob', sql<number | string>`max(size)`.as('size')]).groupBy('blob').as('b');
  const [blobs, projects, repositories] = await Promise.all([
    db.selectFrom(distinct).select([sql<number | string | null>`sum(b.size)`.as('bytes'), sql<number | string>`count(*)`.as('n')]).executeTakeFirst(),
    db.selectFrom('berth_usage_project').select(sql<number | string>`count(*)`.as('n')).executeTakeFirst(),
    db.selectFrom('berth_usage_repository').select(sql<number | string>`count(*)`.as('n')).executeTakeFirst(),
  ]);
  return {
    totalBytes: Number(blobs?.bytes ?? 0), blobs: Number(blobs?.n ?? 0),
    projects: Number(projects?.n ?? 0), repositories: Number(repositories?.n ?? 0),
  };
}
