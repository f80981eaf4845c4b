// The reconciler: the storage walk kept as a slow check of the metadata database, never on the
// request path (`berth gc --reconcile`, and `gc.reconcile.interval` in `berth serve`). It finds
// - storage objects the database does not know about (blobs no known manifest references and no
//   review is queued for, revisions of manifests the reference tables lack, layer links whose
//   blob is gone), records when each was first seen (orphans.ts) and removes it only on a later
//   run once it stayed unknown past `gc.reconcile.grace` (long: a push uploads its blobs before
//   its manifest, and a crashed index write is repaired from storage within a minute);
// - database rows whose storage is missing (manifests and referenced blobs): reported only,
//   since storage is the source of truth and the fix (restore, or `berth index rebuild`) is an
//   operator's call.
// Removal uses the same handshakes as the review worker: a revision goes through the core's
// deleteUnlessKept (re-checked under the manifest lock), a blob is marked pending, re-checked
// against the database and then deleted. A revision storage still tags is never removed: its
// repository is re-read into the index instead (the database was behind, not storage wrong).
import { InventoryBook } from '../inventory/book.js';
import type { Registry } from '../registry/registry.js';
import type { MetaDatabase } from '../meta/database.js';
import type { LockOptions } from './lock.js';
import type { LinkRef } from './plan.js';
import { manifestRefs } from './references.js';
import { MARK_TTL_MS, parse } from './pending.js';
import { forEachLimit } from './pool.js';
import { firstSeenOf, forgetOrphan, recordOrphans, type Orphan } from './orphans.js';

export interface ReconcileOptions {
  /** How long an object must stay unknown to the database before it is removed. */
  graceMs: number;
  /** Report only. */
  dryRun?: boolean;
  lock?: LockOptions;
  now?: () => number;
}

export interface UnknownObject extends Orphan {
  /** ISO time the reconciler first saw it unknown; it is removed from `removableAt` on. */
  firstSeen: string;
  removableAt: string;
}

export interface ReconcileReport {
  dryRun: boolean;
  graceMs: number;
  startedAt: string;
  durationMs: number;
  blobsSeen: number;
  manifestsSeen: number;
  /** Unknown to the database and still within their grace (or kept: see `imported`). */
  unknown: UnknownObject[];
  removed: { blobs: { digest: string; size: number }[]; manifests: LinkRef[]; layerLinks: LinkRef[] };
  /** Repositories re-read into the index because storage tags a revision the database lacked. */
  imported: string[];
  /** Database rows whose storage is gone. */
  missing: { manifests: LinkRef[]; blobs: string[] };
}

const PARALLEL = 16;

export async function reconcile(meta: MetaDatabase, core: Registry, options: ReconcileOptions): Promise<ReconcileReport> {
  const now = options.now ?? Date.now;
  const lock = core.maintenance.lock(options.lock);
  await lock.acquire();
  try {
    return await reconcileLocked(meta, core, options, now);
  } finally {
    await lock.release();
  }
}

async function reconcileLocked(meta: MetaDatabase, core: Registry, options: ReconcileOptions, now: () => number): Promise<ReconcileReport> {
  const started = now();
  const inventory = core.maintenance.inventory;
  // The database first: anything written after this read is at worst seen as unknown once, and
  // re-checked before any removal.
  const knownManifests = await manifestsByRepository(meta);
  const knownBlobs = await referencedBlobs(meta);
  const queuedBlobs = await queuedBlobDigests(meta);

  const present = new Map<string, { size: number; modTime: number }>();
  await inventory.blobs((b) => { present.set(b.digest, { size: b.size, modTime: b.modTime }); });

  const orphans: Orphan[] = [];
  const missing: ReconcileReport['missing'] = { manifests: [], blobs: [] };
  /** Layer link mtimes per repository, for conditional removal. */
  const links = new Map<string, Map<string, number>>();
  /** Revisions the database lacks that storage tags: their repository is re-read. */
  const tagged = new Set<string>();
  /** Unknown revisions, with the blobs they reference (kept while the revision stays). */
  const unknownRevisions = new Map<string, { repository: string; digest: string; modTime: number; blobs: string[] }>();
  let manifestsSeen = 0;
  const repositories = await inventory.repositories();
  for (const name of repositories) {
    const inv = await inventory.inventory(name);
    links.set(name, inv.layerLinks);
    const known = knownManifests.get(name) ?? new Set<string>();
    const tags = new Set([...inv.tags.values()].map((t) => t.digest));
    for (const [digest, modTime] of inv.revisions) {
      manifestsSeen++;
      if (known.has(digest)) continue;
      if (tags.has(digest)) {
        tagged.add(name);
        continue;
      }
      const content = await inventory.content(parse(digest));
      const refs = content ? manifestRefs(content) : undefined;
      unknownRevisions.set(`${name}@${digest}`, { repository: name, digest, modTime, blobs: refs ? [digest, ...refs.blobs] : [digest] });
      orphans.push({ kind: 'manifest', repository: name, digest });
    }
    for (const digest of known) if (!inv.revisions.has(digest)) missing.manifests.push({ repository: name, digest });
    for (const digest of inv.layerLinks.keys()) if (!present.has(digest)) orphans.push({ kind: 'layer', repository: name, digest });
  }
  const walked = new Set(repositories);
  for (const [name, digests] of knownManifests) {
    if (!walked.has(name)) for (const digest of digests) missing.manifests.push({ repository: name, digest });
  }
  for (const digest of knownBlobs) if (!present.has(digest)) missing.blobs.push(digest);
  for (const digest of present.keys()) {
    if (!knownBlobs.has(digest) && !queuedBlobs.has(digest)) orphans.push({ kind: 'blob', repository: '', digest });
  }

  const seen = await recordOrphans(meta, orphans, started, options.dryRun ?? false);
  const due = (o: Orphan) => firstSeenOf(seen, o) <= started - options.graceMs;
  const report: ReconcileReport = {
    dryRun: options.dryRun ?? false, graceMs: options.graceMs, startedAt: new Date(started).toISOString(), durationMs: 0,
    blobsSeen: present.size, manifestsSeen, unknown: [], removed: { blobs: [], manifests: [], layerLinks: [] },
    imported: [...tagged].sort(), missing,
  };
  const waiting = (o: Orphan) => {
    const first = firstSeenOf(seen, o);
    report.unknown.push({ ...o, firstSeen: new Date(first).toISOString(), removableAt: new Date(first + options.graceMs).toISOString() });
  };
  if (tagged.size > 0) await core.catalog.refresh(tagged);

  // Revisions first: the blobs of those that stay are kept.
  const keptBlobs = new Set<string>();
  for (const o of orphans.filter((x) => x.kind === 'manifest')) {
    const rev = unknownRevisions.get(`${o.repository}@${o.digest}`)!;
    if (report.dryRun || !due(o) || !(await removeRevision(meta, core, o))) {
      waiting(o);
      for (const b of rev.blobs) keptBlobs.add(b);
      continue;
    }
    report.removed.manifests.push({ repository: o.repository, digest: o.digest });
    await forgetOrphan(meta, o);
  }
  const blobOrphans = orphans.filter((x) => x.kind === 'blob');
  await forEachLimit(blobOrphans, PARALLEL, async (o) => {
    if (report.dryRun || !due(o) || keptBlobs.has(o.digest) || !(await removeBlob(meta, core, o.digest))) {
      waiting(o);
      return;
    }
    report.removed.blobs.push({ digest: o.digest, size: present.get(o.digest)!.size });
    await forgetOrphan(meta, o);
  });
  // Links to blobs removed now, and links whose blob was already gone past the grace.
  const removedBlobs = new Set(report.removed.blobs.map((b) => b.digest));
  const linkTargets: Orphan[] = [...orphans.filter((x) => x.kind === 'layer')];
  for (const [name, held] of links) for (const digest of held.keys()) if (removedBlobs.has(digest)) linkTargets.push({ kind: 'layer', repository: name, digest });
  for (const o of linkTargets) {
    const fresh = removedBlobs.has(o.digest);
    if (report.dryRun || (!fresh && !due(o))) {
      if (!fresh) waiting(o);
      continue;
    }
    if (await core.maintenance.removeLayerLink(o.repository, parse(o.digest), links.get(o.repository)?.get(o.digest))) {
      report.removed.layerLinks.push({ repository: o.repository, digest: o.digest });
    }
    if (!fresh) await forgetOrphan(meta, o);
  }
  report.unknown.sort((a, b) => `${a.kind}${a.repository}${a.digest}`.localeCompare(`${b.kind}${b.repository}${b.digest}`));
  report.removed.blobs.sort((a, b) => a.digest.localeCompare(b.digest));
  report.durationMs = now() - started;
  return report;
}

/** A revision the database still does not know, and storage does not tag: deleted through the core. */
async function removeRevision(meta: MetaDatabase, core: Registry, o: Orphan): Promise<boolean> {
  const deleted = await core.manifests.deleteUnlessKept(o.repository, parse(o.digest), async () => {
    const row = await meta.db.selectFrom('berth_ref_manifest').select('digest').where('repository', '=', o.repository).where('digest', '=', o.digest).executeTakeFirst();
    if (row) return true;
    const tags = await core.maintenance.inventory.tags(o.repository);
    return [...tags.values()].some((t) => t.digest === o.digest);
  });
  // Deleted without an event: the read API's inventory forgets it here.
  if (deleted) await new InventoryBook(meta.db).forget(o.repository, o.digest);
  return deleted;
}

/** A blob nothing in the database references: marked, re-checked, deleted (the review's handshake). */
async function removeBlob(meta: MetaDatabase, core: Registry, digest: string): Promise<boolean> {
  const known = async () => (await referencedBlobs(meta, digest)).size > 0 || (await queuedBlobDigests(meta, digest)).size > 0;
  if (await known()) return false;
  const d = parse(digest);
  await core.maintenance.markPending(d, Date.now() + MARK_TTL_MS);
  try {
    if (await known()) return false;
    await core.maintenance.removeBlob(d);
    return true;
  } finally {
    await core.maintenance.clearPending(d);
  }
}

async function manifestsByRepository(meta: MetaDatabase): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const r of await meta.db.selectFrom('berth_ref_manifest').select(['repository', 'digest']).execute()) {
    let set = out.get(r.repository);
    if (!set) out.set(r.repository, (set = new Set()));
    set.add(r.digest);
  }
  return out;
}

/** Blobs (manifests' own bytes included) some known revision references; one, when `digest` is given. */
async function referencedBlobs(meta: MetaDatabase, digest?: string): Promise<Set<string>> {
  let q = meta.db.selectFrom('berth_ref_manifest_blob').select('blob').distinct();
  if (digest !== undefined) q = q.where('blob', '=', digest);
  return new Set((await q.execute()).map((r) => r.blob));
}

/** Blobs a review is queued for: the review worker decides about those. */
async function queuedBlobDigests(meta: MetaDatabase, digest?: string): Promise<Set<string>> {
  let q = meta.db.selectFrom('berth_gc_review').select('digest').where('kind', '=', 'blob');
  if (digest !== undefined) q = q.where('digest', '=', digest);
  return new Set((await q.execute()).map((r) => r.digest));
}
