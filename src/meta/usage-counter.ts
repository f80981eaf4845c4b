// Storage usage kept incrementally and exactly, in the transaction that changes the references
// (src/meta/references.ts). A blob counts once per repository while any of its revisions
// references it, and once per project while any of its repositories holds it: each level keeps a
// reference count per blob, and a byte total that moves only when a count leaves or reaches zero.
//
// Concurrency: rows are touched in one order (the repository's blobs sorted, then the project's
// blobs sorted, then the totals), each through an atomic upsert or update that returns the new
// count, so concurrent PostgreSQL transactions serialize per row and never deadlock on each
// other, and SQLite's transactions are serial anyway.
import { sql, type Kysely, type Transaction } from 'kysely';
import { projectOf } from '../policy/patterns.js';
import type { MetaTables } from './tables/index.js';

type Db = Kysely<MetaTables> | Transaction<MetaTables>;

/** Per blob: how many revisions of the repository gained (+) or lost (-) a reference, and its size. */
export type BlobDeltas = Map<string, { delta: number; size: number }>;

export function addDelta(deltas: BlobDeltas, blob: string, size: number, delta: number): void {
  const d = deltas.get(blob);
  if (d) d.delta += delta;
  else deltas.set(blob, { delta, size });
}

/** Applies the deltas; returns the blobs the repository no longer references at all. */
export async function applyUsage(trx: Db, repository: string, deltas: BlobDeltas, manifests: number): Promise<string[]> {
  const project = projectOf(repository);
  const sorted = [...deltas].filter(([, d]) => d.delta !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const projectDeltas: BlobDeltas = new Map();
  const released: string[] = [];
  let repositoryBytes = 0;
  for (const [blob, { delta, size }] of sorted) {
    const held = await step(trx, 'berth_usage_repository_blob', 'repository', repository, blob, delta, size);
    if (held.change === 0) continue;
    repositoryBytes += held.change * held.size;
    addDelta(projectDeltas, blob, held.size, held.change);
    if (held.change < 0) released.push(blob);
  }
  let projectBytes = 0;
  for (const [blob, { delta, size }] of projectDeltas) {
    const held = await step(trx, 'berth_usage_project_blob', 'project', project, blob, delta, size);
    projectBytes += held.change * held.size;
  }
  if (repositoryBytes !== 0 || manifests !== 0) {
    await trx.insertInto('berth_usage_repository').values({ repository, project, bytes: repositoryBytes, manifests })
      .onConflict((oc) => oc.column('repository').doUpdateSet({
        bytes: sql`berth_usage_repository.bytes + ${repositoryBytes}`, manifests: sql`berth_usage_repository.manifests + ${manifests}`,
      })).execute();
    await trx.deleteFrom('berth_usage_repository').where('repository', '=', repository).where('manifests', '<=', 0).execute();
  }
  if (projectBytes !== 0) {
    await trx.insertInto('berth_usage_project').values({ project, bytes: projectBytes })
      .onConflict((oc) => oc.column('project').doUpdateSet({ bytes: sql`berth_usage_project.bytes + ${projectBytes}` })).execute();
    await trx.deleteFrom('berth_usage_project').where('project', '=', project).where('bytes', '<=', 0).execute();
  }
  return released;
}

/**
 * Moves one blob's count at one level by `delta`; `change` is +1 when the blob became held
 * there, -1 when it stopped being held, 0 otherwise. Rows at zero are deleted, so "held" is "has
 * a row". `size` is the one the blob was first counted with, so what is removed is what was added.
 */
async function step(
  trx: Db, table: 'berth_usage_repository_blob' | 'berth_usage_project_blob', column: 'repository' | 'project',
  owner: string, blob: string, delta: number, size: number,
): Promise<{ change: number; size: number }> {
  const refs = sql.ref(`${table}.refs`);
  if (delta > 0) {
    const row = await sql<{ refs: number | string }>`insert into ${sql.table(table)} (${sql.ref(column)}, blob, size, refs)
      values (${owner}, ${blob}, ${size}, ${delta})
      on conflict (${sql.ref(column)}, blob) do update set refs = ${refs} + ${delta} returning refs`.execute(trx);
    return { change: Number(row.rows[0]?.refs) === delta ? 1 : 0, size };
  }
  const row = (await sql<{ refs: number | string; size: number | string }>`update ${sql.table(table)} set refs = refs + ${delta}
    where ${sql.ref(column)} = ${owner} and blob = ${blob} returning refs, size`.execute(trx)).rows[0];
  if (!row || Number(row.refs) > 0) return { change: 0, size };
  await sql`delete from ${sql.table(table)} where ${sql.ref(column)} = ${owner} and blob = ${blob}`.execute(trx);
  return { change: -1, size: Number(row.size) };
}
