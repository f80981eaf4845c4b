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

/** Adds a revision unless the repository already holds it; returns whether it was added. */
export async function addManifest(trx: Db, repository: string, facts: ManifestFacts, now: number): Promise<boolean> {
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
  const deltas: BlobDeltas = new Map();
  for (const [blob, size] of blobs) addDelta(deltas, blob, size, 1);
  await applyUsage(trx, repository, deltas, 1);
  return true;
}

/** Removes a revision; returns the blobs the repository no longer references (none when it was not there). */
export async function removeManifest(trx: Db, repository: string, digest: string): Promise<string[]> {
  const removed = await trx.deleteFrom('berth_ref_manifest').where('repository', '=', repository).where('digest', '=', digest)
    .returning('digest').executeTakeFirst();
  if (!removed) return [];
  const blobs = await trx.deleteFrom('berth_ref_manifest_blob').where('repository', '=', repository).where('manifest', '=', digest)
    .returning(['blob', 'size']).execute();
  await trx.deleteFrom('berth_ref_child').where('repository', '=', repository).where('parent', '=', digest).execute();
  const deltas: BlobDeltas = new Map();
  for (const b of blobs) addDelta(deltas, b.blob, Number(b.size), -1);
  return applyUsage(trx, repository, deltas, -1);
}

/**
 * A manifest gone from the repository: its row and references go, and what it alone may have
 * kept is queued for review (its children and referrers; the blobs it released, one row per
 * releasing repository so the review removes this repository's layer link with the blob).
 */
export async function releaseManifest(trx: Db, repository: string, digest: string, now: number): Promise<void> {
  const children = await trx.selectFrom('berth_ref_child').select('child').where('repository', '=', repository).where('parent', '=', digest).execute();
  const referrers = await trx.selectFrom('berth_ref_manifest').select('digest').where('repository', '=', repository).where('subject', '=', digest).execute();
  for (const d of [...children.map((r) => r.child), ...referrers.map((r) => r.digest)]) {
    await queueReview(trx, { kind: 'manifest', repository, digest: d, reason: 'unmanifest' }, now);
  }
  for (const blob of await removeManifest(trx, repository, digest)) {
    await queueReview(trx, { kind: 'blob', repository, digest: blob, reason: 'unreferenced' }, now);
  }
}

/**
 * Makes the repository's revisions what storage holds (undefined: the repository is gone). A
 * revision storage lost behind the database's back (a process killed between its storage delete
 * and the database write, an offline sweep) is released as a delete would release it, so the
 * review still collects what it kept; the review re-checks before deleting anything.
 */
export async function replaceManifests(trx: Db, repository: string, manifests: ManifestFacts[] | undefined, now: number): Promise<void> {
  const held = new Set((await trx.selectFrom('berth_ref_manifest').select('digest').where('repository', '=', repository).execute()).map((r) => r.digest));
  const wanted = new Map((manifests ?? []).map((m) => [m.digest, m]));
  for (const digest of held) if (!wanted.has(digest)) await releaseManifest(trx, repository, digest, now);
  for (const [digest, facts] of wanted) if (!held.has(digest)) await addManifest(trx, repository, facts, now);
}
