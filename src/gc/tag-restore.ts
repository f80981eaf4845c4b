// Tag restore (Quay's "time machine"): a tag deleted or moved within `gc.tagrestore` is put back on
// the manifest it named. The manifest is still there: the review worker keeps a manifest a
// restorable tag names (review-worker.ts). The tag is written by pushing the stored manifest
// again under it, through the registry clients use (listeners, quota, immutable tags apply), and
// under the core's per-manifest lock, so a review deleting the manifest at the window's edge
// either sees the tag or makes the restore fail with MANIFEST_BLOB_UNKNOWN; never a tag to nothing.
import type { Registry } from '../registry/registry.js';
import type { MetaDatabase } from '../meta/database.js';
import { deletedTags, type DeletedTag } from '../meta/deleted-tags.js';
import { RegistryError } from '../errors/index.js';
import { parse } from './pending.js';

export class TagRestoreError extends Error {}

export interface RestoreOptions {
  /** Restore to this manifest (the tag's latest deletion otherwise). */
  digest?: string;
  windowMs: number;
  now?: () => number;
}

/** Deleted or moved tags still restorable, newest first. */
export async function restorableTags(meta: MetaDatabase, windowMs: number, filter: { repository?: string } = {}, now = Date.now()): Promise<(DeletedTag & { restorableUntil: number })[]> {
  if (windowMs <= 0) return [];
  return (await deletedTags(meta, now - windowMs, filter)).map((t) => ({ ...t, restorableUntil: t.deletedAt + windowMs }));
}

export async function restoreTag(meta: MetaDatabase, registry: Registry, repository: string, tag: string, options: RestoreOptions): Promise<DeletedTag> {
  const now = (options.now ?? Date.now)();
  if (options.windowMs <= 0) throw new TagRestoreError('tag restore is off (gc.tagrestore: 0)');
  const rows = await deletedTags(meta, now - options.windowMs, { repository, tag, ...(options.digest !== undefined ? { digest: options.digest } : {}) });
  const row = rows[0];
  if (!row) {
    const which = options.digest !== undefined ? `${repository}:${tag} (${options.digest})` : `${repository}:${tag}`;
    throw new TagRestoreError(`no deleted tag ${which} is restorable: tags stay restorable for gc.tagrestore after they are deleted or moved`);
  }
  let stored;
  try {
    stored = await registry.manifests.get(repository, { digest: parse(row.digest) });
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'MANIFEST_UNKNOWN') throw new TagRestoreError(`${repository}:${tag} named ${row.digest}, which was deleted since; nothing to restore`);
    throw err;
  }
  await registry.manifests.put(repository, { tag }, stored.content, stored.mediaType);
  return row;
}
