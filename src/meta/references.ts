// The reference tables' writer (tables/references.ts), called by the listing index inside the
// transaction that records a change (src/meta/listing-index.ts), so references, usage and the
// listing never disagree: a manifest PUT adds its revision, a DELETE removes it, and a re-read of
// a repository from storage (crash repair, `berth index rebuild`, the first build of an existing
// registry) replaces the repository's revisions with what storage holds.
import type { Kysely, Transaction } from 'kysely';
import type { ManifestFacts } from '../registry/listing-index.js';
import type { MetaTables } from './tables/index.js';
import { addDelta, applyUsage, type BlobDeltas } from './usage-counter.js';
import { queueReview } from './review-queue.js';

type Db = Kysely<MetaTables> | Transaction<MetaTables>;

const BATCH = 200;

/**
 * What one transaction changed in one repository's references. Usage moves once, at `settle`,
 * for all of them together: its rows are then locked in the one order usage-counter.ts keeps
 * (the project's total last), where a row-by-row application per manifest locked a project's
 * total between two manifests and deadlocked against a transaction of a sibling repository
 * (PostgreSQL 40P01 in a first index build, two repositories of one project read at once).
 */
export class ReferenceChanges {
  readonly deltas: BlobDeltas = new Map();
  manifests = 0;
  constructor(readonly repository: string) {}
}

/** Adds a revision unless the repository already holds it; returns whether it was added. */
export async function addManifest(trx: Db, changes: ReferenceChanges, facts: ManifestFacts, now: number): Promise<boolean> {
  const { repository } = changes;
  const inserted = await trx.insertInto('berth_ref_manifest')
    .values({ repository, digest: facts.digest, size: facts.size, subject: facts.subject ?? null, created_at: now })
    .onConflict((oc) => oc.doNothing()).returning('digest').executeTakeFirst();
  if (!inserted) return false;
  const blobs = new Map<string, number>([[facts.digest, facts.size]]);
  for (const b of facts.blobs) if (!blobs.has(b.digest)) blobs.set(b.digest, b.size);
  const rows = [...blobs].map(([blob, size]) => ({ repository, manifest: facts.digest, blob, size }));
  for (let i = 0; i < rows.length; i += BATCH) await trx.insertInto('berth_ref_manifest_blob').values(rows.slice(i, i + BATCH)).execute();
  const children = facts.children.map((child) => ({ repository, parent: facts.digest, child }));
  for (let i = 0; i < children.length; i += BATCH) {
    await trx.insertInto('berth_ref_child').values(children.slice(i, i + BATCH)).onConflict((oc) => oc.doNothing()).execute();
  }
  for (const [blob, size] of blobs) addDelta(changes.deltas, blob, size, 1);
  changes.manifests++;
  return true;
}

/** Removes a revision; false when the repository did not hold it. */
async function removeManifest(trx: Db, changes: ReferenceChanges, digest: string): Promise<boolean> {
  const { repository } = changes;
  const removed = await trx.deleteFrom('berth_ref_manifest').where('repository', '=', repository).where('digest', '=', digest)
    .returning('digest').executeTakeFirst();
  if (!removed) return false;
  const blobs = await trx.deleteFrom('berth_ref_manifest_blob').where('repository', '=', repository).where('manifest', '=', digest)
    .returning(['blob', 'size']).execute();
  await trx.deleteFrom('berth_ref_child').where('repository', '=', repository).where('parent', '=', digest).execute();
  for (const b of blobs) addDelta(changes.deltas, b.blob, Number(b.size), -1);
  changes.manifests--;
  return true;
}

/**
 * A manifest gone from the repository: its row and references go, and what it alone may have
 * kept is queued for review: its children and referrers now, and at `settle` the blobs the
 * repository no longer references (one row per releasing repository, so the review removes
 * this repository's layer link with the blob).
 */
export async function releaseManifest(trx: Db, changes: ReferenceChanges, digest: string, now: number): Promise<void> {
  const { repository } = changes;
  const children = await trx.selectFrom('berth_ref_child').select('child').where('repository', '=', repository).where('parent', '=', digest).execute();
  const referrers = await trx.selectFrom('berth_ref_manifest').select('digest').where('repository', '=', repository).where('subject', '=', digest).execute();
  for (const d of [...children.map((r) => r.child), ...referrers.map((r) => r.digest)]) {
    await queueReview(trx, { kind: 'manifest', repository, digest: d, reason: 'unmanifest' }, now);
  }
  await removeManifest(trx, changes, digest);
}

/** Moves usage by everything the transaction changed, and queues a review of each blob the repository released. */
export async function settle(trx: Db, changes: ReferenceChanges, now: number): Promise<void> {
  if (changes.deltas.size === 0 && changes.manifests === 0) return;
  for (const blob of await applyUsage(trx, changes.repository, changes.deltas, changes.manifests)) {
    await queueReview(trx, { kind: 'blob', repository: changes.repository, digest: blob, reason: 'unreferenced' }, now);
  }
  changes.deltas.clear();
  changes.manifests = 0;
}

/**
 * Makes the repository's revisions what storage holds (undefined: the repository is gone). A
 * revision storage lost behind the database's back (a process killed between its storage delete
 * and the database write, an offline sweep) is released as a delete would release it, so the
 * review still collects what it kept; the review re-checks before deleting anything.
 */
export async function replaceManifests(trx: Db, changes: ReferenceChanges, manifests: ManifestFacts[] | undefined, now: number): Promise<void> {
  const { repository } = changes;
  const held = new Set((await trx.selectFrom('berth_ref_manifest').select('digest').where('repository', '=', repository).execute()).map((r) => r.digest));
  const wanted = new Map((manifests ?? []).map((m) => [m.digest, m]));
  for (const digest of held) if (!wanted.has(digest)) await releaseManifest(trx, changes, digest, now);
  for (const [digest, facts] of wanted) if (!held.has(digest)) await addManifest(trx, changes, facts, now);
}
