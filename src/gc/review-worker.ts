// The collector over the metadata database: takes due rows of the review queue (queued by the
// listing index's transactions, src/meta/review-queue.ts), re-checks each against the reference
// tables, and deletes what nothing references, from storage first and then (through the core,
// whose listing change removes its rows) from the database. Cost is proportional to what
// changed: no storage walk, one row at a time.
//
// Handshake with the push path (the same two halves as the walking collector's, sweep.ts):
// - a manifest is deleted under the core's per-manifest lock (deleteUnlessKept) after the
//   re-check, and a PUT or tag of that manifest takes the same lock, so one of them sees the other;
// - a blob is first marked pending in storage, then re-checked (no revision anywhere references
//   it), then deleted, then unmarked. A manifest PUT writes its references, then looks for the
//   mark: either its references were written before the re-check (the blob is kept) or it sees
//   the mark, or the blob already gone, and refuses with MANIFEST_BLOB_UNKNOWN, so no
//   acknowledged manifest ever names a deleted blob.
import { InventoryBook } from '../inventory/book.js';
import type { Registry } from '../registry/registry.js';
import type { MetaDatabase } from '../meta/database.js';
import { claimReviews, deferReview, finishReview, laterBlobReview, type ReviewRow } from '../meta/review-queue.js';
import { pruneDeletedTags, restorableUntil } from '../meta/deleted-tags.js';
import { projectOf } from '../policy/patterns.js';
import { MARK_TTL_MS, parse } from './pending.js';

export interface ReviewOptions {
  /** How long a row waits after it was queued. */
  graceMs: number;
  /** How long a blob a push linked waits (`gc.review.upload`); `graceMs` without. */
  uploadGraceMs?: number;
  /** Untagged manifests nothing keeps: deleted, or kept. */
  untagged: 'keep' | 'delete';
  /** Projects whose untagged manifests are always kept. */
  keepUntagged?: string[];
  /** Rows per pass. */
  batch?: number;
  /** How long a claimed row stays with this worker (default 10 minutes). */
  leaseMs?: number;
  /** How long a deleted or moved tag stays restorable (`gc.tagrestore`); its manifest is kept that long. 0 or absent: not at all. */
  tagRestoreMs?: number;
  now?: () => number;
}

export interface ReviewReport {
  reviewed: number;
  manifests: { repository: string; digest: string }[];
  blobs: string[];
  kept: number;
}

const LEASE_MS = 10 * 60_000;

/** One pass: claims due rows until none is left (or `batch` rows per claim), and reviews each. */
export async function reviewOnce(meta: MetaDatabase, core: Registry, options: ReviewOptions): Promise<ReviewReport> {
  const now = options.now ?? Date.now;
  const report: ReviewReport = { reviewed: 0, manifests: [], blobs: [], kept: 0 };
  const windowMs = options.tagRestoreMs ?? 0;
  await pruneDeletedTags(meta, now() - windowMs);
  for (;;) {
    // Rows are due once `due_at` is a grace old; a claimed row's `due_at` moves so that it is due
    // again one lease from now (its worker died) rather than a lease plus a grace.
    const rows = await claimReviews(meta, now() - options.graceMs, now() + (options.leaseMs ?? LEASE_MS) - options.graceMs, options.batch ?? 100);
    if (rows.length === 0) return report;
    for (const row of rows) {
      report.reviewed++;
      // A restorable tag keeps its manifest: the row comes back when the tag stops being restorable.
      const until = row.kind === 'manifest' && options.untagged === 'delete' ? await restorableUntil(meta, row.repository, row.digest, windowMs, now()) : undefined;
      if (until !== undefined) {
        report.kept++;
        await deferReview(meta, row, until - options.graceMs);
        continue;
      }
      const deleted = row.kind === 'manifest' ? await reviewManifest(meta, core, row, options) : await reviewBlob(meta, core, row, (options.uploadGraceMs ?? options.graceMs) - options.graceMs);
      if (!deleted) report.kept++;
      else if (row.kind === 'manifest') report.manifests.push({ repository: row.repository, digest: row.digest });
      else report.blobs.push(row.digest);
      await finishReview(meta, row);
    }
  }
}

/** A revision link rewritten more recently than this belongs to a PUT that may be about to tag it. */
const FRESH_PUT_MS = 60_000;

/**
 * Deletes an untagged manifest nothing keeps. Across replicas the core's lock is not shared, so
 * the storage handshake covers a PUT (or tag) of the same manifest on another replica: its
 * revision link's time is read, the manifest is marked pending, and it is kept when the link was
 * rewritten since or very recently. A PUT writes its link before it checks for the mark: either
 * it wrote before our check (kept) or it sees the mark and refuses (MANIFEST_BLOB_UNKNOWN, retry).
 */
async function reviewManifest(meta: MetaDatabase, core: Registry, row: ReviewRow, options: ReviewOptions): Promise<boolean> {
  if (options.untagged !== 'delete' || (options.keepUntagged ?? []).includes(projectOf(row.repository))) return false;
  const now = options.now ?? Date.now;
  const digest = parse(row.digest);
  const store = core.maintenance;
  const linked = await store.inventory.revisionTime(row.repository, digest);
  if (linked === undefined) return false;
  const fresh = Math.min(options.graceMs, FRESH_PUT_MS);
  await store.markPending(digest, Date.now() + MARK_TTL_MS);
  let deleted: boolean;
  try {
    deleted = await core.manifests.deleteUnlessKept(row.repository, digest, async () => {
      const t = await store.inventory.revisionTime(row.repository, digest);
      if (t !== linked || now() - t < fresh) return true;
      return (await manifestKept(meta, row.repository, row.digest))
        || (await restorableUntil(meta, row.repository, row.digest, options.tagRestoreMs ?? 0, now())) !== undefined;
    });
  } finally {
    await store.clearPending(digest);
  }
  // The core deletes without an event (no registry listener hears of it): the read API's
  // inventory is told here, as afterGcRun tells it of the sweep's deletes.
  if (deleted) await new InventoryBook(meta.db).forget(row.repository, row.digest);
  return deleted;
}

/** Kept while tagged, while a revision of the repository lists it as a child, or while its subject is there. */
export async function manifestKept(meta: MetaDatabase, repository: string, digest: string): Promise<boolean> {
  const db = meta.db;
  const tagged = await db.selectFrom('berth_listing_tag').select('tag').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
  if (tagged) return true;
  const parent = await db.selectFrom('berth_ref_child').select('parent').where('repository', '=', repository).where('child', '=', digest).executeTakeFirst();
  if (parent) return true;
  const self = await db.selectFrom('berth_ref_manifest').select('subject').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
  if (!self) return true; // not known to the index (yet): never delete what the database cannot vouch for
  if (self.subject === null) return false;
  const subject = await db.selectFrom('berth_ref_manifest').select('digest').where('repository', '=', repository).where('digest', '=', self.subject).executeTakeFirst();
  return subject !== undefined;
}

async function blobReferenced(meta: MetaDatabase, digest: string): Promise<boolean> {
  return (await meta.db.selectFrom('berth_usage_repository_blob').select('repository').where('blob', '=', digest).executeTakeFirst()) !== undefined;
}

async function repositoryHolds(meta: MetaDatabase, repository: string, digest: string): Promise<boolean> {
  return (await meta.db.selectFrom('berth_usage_repository_blob').select('repository')
    .where('repository', '=', repository).where('blob', '=', digest).executeTakeFirst()) !== undefined;
}

/**
 * A blob the row's repository released (its last manifest naming it went) or linked without a
 * manifest naming it yet (an upload or mount, reason `upload`). Unless a revision of that
 * repository references it again, its layer link goes; the data goes too when no repository
 * references it and no other repository's later row (a fresh upload there) is left to judge it.
 * True only for the row that deleted the data.
 *
 * Both removals happen under the pending mark, after the re-check: a manifest PUT writes its
 * references, then checks that each blob is linked, present and not marked, so either its
 * references came before the re-check (kept) or it sees the mark, the link or the data gone, and
 * refuses with MANIFEST_BLOB_UNKNOWN. While the mark stands (milliseconds), a PUT in another
 * repository naming the same blob is refused too and retried by its client.
 */
async function reviewBlob(meta: MetaDatabase, core: Registry, row: ReviewRow & { queuedAt: number }, uploadDelayMs: number): Promise<boolean> {
  const { repository } = row;
  const holds = () => repository !== '' && repositoryHolds(meta, repository, row.digest);
  if (await holds()) return false;
  const digest = parse(row.digest);
  const store = core.maintenance;
  // Read before the mark: a link rewritten since (the blob pushed again) stays.
  const linked = repository === '' ? undefined : await store.inventory.layerLinkTime(repository, digest);
  let dropData = !(await blobReferenced(meta, row.digest)) && !(await laterBlobReview(meta, row, uploadDelayMs));
  if (!dropData && linked === undefined) return false;
  let deleted = false;
  await store.markPending(digest, Date.now() + MARK_TTL_MS);
  try {
    if (await holds()) return false;
    if (dropData && (await blobReferenced(meta, row.digest))) dropData = false;
    if (linked !== undefined) await store.unlinkLayer(repository, digest, linked);
    if (dropData && (await core.blobs.size(digest)) !== undefined) {
      await store.removeBlob(digest);
      deleted = true;
    }
  } finally {
    await store.clearPending(digest);
  }
  return deleted;
}
