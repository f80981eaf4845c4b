// Deleted and moved tags (berth_tag_deleted), recorded in the listing index's transaction so a tag
// can be put back within `gc.tagrestore` (src/gc/tag-restore.ts), and so the review worker keeps
// the manifest a restorable tag named. Rows past the window are pruned by the review passes.
import type { Kysely, Transaction } from 'kysely';
import type { MetaDatabase } from './database.js';
import type { MetaTables } from './tables/index.js';

type Db = Kysely<MetaTables> | Transaction<MetaTables>;

export interface DeletedTag {
  repository: string;
  tag: string;
  digest: string;
  /** untag (deleted) or retag (moved to another manifest). */
  reason: string;
  deletedAt: number;
}

export async function recordDeletedTag(trx: Db, row: Omit<DeletedTag, 'deletedAt'>, now: number): Promise<void> {
  await trx.insertInto('berth_tag_deleted').values({ ...row, deleted_at: now, policy: null })
    .onConflict((oc) => oc.columns(['repository', 'tag', 'digest']).doUpdateSet({ reason: row.reason, deleted_at: now, policy: null })).execute();
}

/** Marks the deletion of `repository:tag` (naming `digest`) as retention's, by the rules `policy`. */
export async function markRetentionDeletion(db: Db, repository: string, tag: string, digest: string, policy: string): Promise<void> {
  await db.updateTable('berth_tag_deleted').set({ reason: 'retention', policy })
    .where('repository', '=', repository).where('tag', '=', tag).where('digest', '=', digest).where('reason', '=', 'untag').execute();
}

/** Why `repository:tag` is gone, when retention deleted it (its latest deletion) and that is still remembered. */
export async function retentionDeletionOf(db: Db, repository: string, tag: string): Promise<{ at: number; policy: string; digest: string } | undefined> {
  const row = await db.selectFrom('berth_tag_deleted').select(['reason', 'policy', 'deleted_at', 'digest'])
    .where('repository', '=', repository).where('tag', '=', tag).orderBy('deleted_at', 'desc').executeTakeFirst();
  return row?.reason === 'retention' ? { at: Number(row.deleted_at), policy: row.policy ?? '', digest: row.digest } : undefined;
}

/** Deleted tags newer than `since` (of one repository, or one tag), newest first. */
export async function deletedTags(meta: MetaDatabase, since: number, filter: { repository?: string; tag?: string; digest?: string } = {}): Promise<DeletedTag[]> {
  let q = meta.db.selectFrom('berth_tag_deleted').select(['repository', 'tag', 'digest', 'reason', 'deleted_at']).where('deleted_at', '>', since);
  if (filter.repository !== undefined) q = q.where('repository', '=', filter.repository);
  if (filter.tag !== undefined) q = q.where('tag', '=', filter.tag);
  if (filter.digest !== undefined) q = q.where('digest', '=', filter.digest);
  const rows = await q.orderBy('deleted_at', 'desc').orderBy('repository').orderBy('tag').execute();
  return rows.map((r) => ({ repository: r.repository, tag: r.tag, digest: r.digest, reason: r.reason, deletedAt: Number(r.deleted_at) }));
}

/** When the last restorable tag naming this manifest stops being restorable (undefined: none is). */
export async function restorableUntil(meta: MetaDatabase, repository: string, digest: string, windowMs: number, now: number): Promise<number | undefined> {
  if (windowMs <= 0) return undefined;
  const row = await meta.db.selectFrom('berth_tag_deleted').select('deleted_at').where('repository', '=', repository).where('digest', '=', digest)
    .orderBy('deleted_at', 'desc').executeTakeFirst();
  const until = row ? Number(row.deleted_at) + windowMs : undefined;
  return until !== undefined && until > now ? until : undefined;
}

/** Forgets tags deleted before `before`. */
export async function pruneDeletedTags(meta: MetaDatabase, before: number): Promise<void> {
  await meta.db.deleteFrom('berth_tag_deleted').where('deleted_at', '<=', before).execute();
}
