// The GC review queue (berth_gc_review): what may have become unreferenced, queued in the
// transaction of the change that made it so (src/meta/listing-index.ts), or before a push links
// a blob no manifest names yet (uploadReviews, through the core's BlobStore), and claimed by the
// review workers (src/gc/review-worker.ts) once its grace has passed. Claiming moves a row's
// `due_at` a lease ahead, so a worker that dies mid-review leaves the row to be reviewed again;
// PostgreSQL workers claim with FOR UPDATE SKIP LOCKED and never take the same row, SQLite runs
// one worker (its transactions are serial anyway).
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MetaDatabase } from './database.js';
import type { MetaTables } from './tables/index.js';
import type { UploadReview } from '../registry/blob-store.js';

type Db = Kysely<MetaTables> | Transaction<MetaTables>;

export type ReviewKind = 'manifest' | 'blob';

export interface ReviewRow {
  kind: ReviewKind;
  /** '' for blobs (content is shared by the whole registry). */
  repository: string;
  digest: string;
  reason: string;
}

/**
 * Queues (or re-queues, restarting its grace) one review; `now` is when it was queued. Workers
 * take a row one `gc.review.grace` after its `due_at`: `delayMs` (an event with a grace of its
 * own, such as `gc.review.upload`) moves it by the difference.
 */
export async function queueReview(trx: Db, row: ReviewRow, now: number, delayMs = 0): Promise<void> {
  const due = now + delayMs;
  await trx.insertInto('berth_gc_review').values({ ...row, queued_at: now, due_at: due })
    .onConflict((oc) => oc.columns(['kind', 'repository', 'digest']).doUpdateSet({ reason: row.reason, queued_at: now, due_at: due })).execute();
}

/**
 * The review of what pushes write before anything names it: a row per repository and blob
 * linked (an upload's end, a mount; reason `upload`), so a blob no manifest comes to name (a push
 * that failed or gave up before its manifest) is collected after `graceMs` instead of staying for
 * the reconciler; and a row per new manifest revision (reason `pushed`), so one no tag, index or
 * subject keeps is collected as an untagged one. `reviewGraceMs` is `gc.review.grace`, the wait
 * every row gets.
 */
export function uploadReviews(db: Kysely<MetaTables>, graceMs: number, reviewGraceMs: number, now: () => number = Date.now): UploadReview {
  return {
    async linked(name, digest) {
      await queueReview(db, { kind: 'blob', repository: name, digest: digest.value, reason: 'upload' }, now(), graceMs - reviewGraceMs);
    },
    // Waits as an uploaded blob does: a push may write a manifest by digest before the tag or index naming it.
    async manifest(name, digest) {
      await queueReview(db, { kind: 'manifest', repository: name, digest: digest.value, reason: 'pushed' }, now(), graceMs - reviewGraceMs);
    },
  };
}

/**
 * Whether another repository's row for the same blob comes due after this one (ties: the greater
 * repository name): that row decides about the blob's data later, so a blob uploaded elsewhere a
 * moment ago is not deleted under its push. When a row comes due is read from its queue time
 * (a claimed row's `due_at` holds its lease): `uploadDelayMs` later for `upload` rows.
 */
export async function laterBlobReview(meta: MetaDatabase, row: ReviewRow & { queuedAt: number }, uploadDelayMs: number): Promise<boolean> {
  const mine = row.queuedAt + (row.reason === 'upload' ? uploadDelayMs : 0);
  const due = sql<number>`queued_at + case when reason = 'upload' then ${uploadDelayMs} else 0 end`;
  const later = await meta.db.selectFrom('berth_gc_review').select('repository')
    .where('digest', '=', row.digest).where('kind', '=', 'blob').where('repository', '<>', row.repository)
    .where((eb) => eb.or([eb(due, '>', mine), eb.and([eb(due, '=', mine), eb('repository', '>', row.repository)])]))
    .executeTakeFirst();
  return later !== undefined;
}

/**
 * Claims up to `limit` rows queued at or before `dueBefore`, leasing them until `leaseUntil`
 * (rows whose lease ran out are due again). Returns the claimed rows with the `due_at` each now
 * carries, which `finish` checks so a row re-queued meanwhile is not dropped.
 */
export async function claimReviews(meta: MetaDatabase, dueBefore: number, leaseUntil: number, limit: number): Promise<(ReviewRow & { lease: number; queuedAt: number })[]> {
  return meta.db.transaction().execute(async (trx) => {
    const lock = meta.dialect === 'postgres' ? sql` for update skip locked` : sql``;
    const rows = (await sql<ReviewRow & { queued_at: number | string }>`select kind, repository, digest, reason, queued_at from berth_gc_review
      where due_at <= ${dueBefore} order by due_at limit ${limit}${lock}`.execute(trx)).rows;
    for (const r of rows) {
      await trx.updateTable('berth_gc_review').set({ due_at: leaseUntil })
        .where('kind', '=', r.kind).where('repository', '=', r.repository).where('digest', '=', r.digest).execute();
    }
    return rows.map(({ queued_at, ...r }) => ({ ...r, queuedAt: Number(queued_at), lease: leaseUntil }));
  });
}

/** Drops a reviewed row, unless it was queued again while it was reviewed. */
export async function finishReview(meta: MetaDatabase, row: ReviewRow & { lease: number }): Promise<void> {
  await meta.db.deleteFrom('berth_gc_review').where('kind', '=', row.kind).where('repository', '=', row.repository)
    .where('digest', '=', row.digest).where('due_at', '=', row.lease).execute();
}

/** Keeps a reviewed row queued with a new `due_at` (a restorable tag holds its manifest until then), unless it was queued again meanwhile. */
export async function deferReview(meta: MetaDatabase, row: ReviewRow & { lease: number }, dueAt: number): Promise<void> {
  await meta.db.updateTable('berth_gc_review').set({ due_at: dueAt }).where('kind', '=', row.kind).where('repository', '=', row.repository)
    .where('digest', '=', row.digest).where('due_at', '=', row.lease).execute();
}

/** Rows waiting (for `berth gc --review-status` and tests). */
export async function pendingReviews(meta: MetaDatabase): Promise<number> {
  const row = await meta.db.selectFrom('berth_gc_review').select(sql<number | string>`count(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
