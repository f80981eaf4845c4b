// The sweep, made safe while clients push and pull. The danger is a manifest PUT that checks
// "this blob exists" just before we delete it: the client gets 201 and the image is broken.
// The ordering that prevents it pairs with the manifest PUT (src/registry/manifest-store.ts):
//
//   PUT:  check references -> write manifest + revision link -> re-check references -> tag
//         -> make sure its own revision link and manifest blob are still there (rewrite them)
//   GC:   remove (park blobs in quarantine, delete revision links) -> rescan revisions, tags
//         and layer links for anything new or rewritten since the mark -> put back what they
//         reference -> only then delete for good
//
// Either the PUT's re-check runs after our removal (it sees the blob missing and answers
// MANIFEST_BLOB_UNKNOWN: the push fails, nothing acknowledged is lost), or it ran before, in
// which case its revision link was written before our rescan, which therefore sees it and puts
// the blob back. Same for an index and its children (the re-check covers child revision
// links), and for a tag PUT on an untagged manifest we are deleting (the rescan sees the new
// tag; a tag written after the rescan finds its manifest gone and rewrites it). What remains is
// a short window in which a pull of content that no manifest referenced at mark time gets 404.
// Blobs are parked, not deleted, so that "put back" is possible; a crash leaves them parked and
// the next run restores them before marking (quarantine.ts).
import type { StorageDriver } from '../storage/driver.js';
import type { Registry } from '../registry/registry.js';
import { layout } from '../registry/layout.js';
import { writeLink } from '../registry/links.js';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { deleteIfPresent, orUndefined } from '../registry/storage-errors.js';
import { digestDirs, layersBase, readTags, repositoryNames, revisionTimes } from './inventory.js';
import { markManifest, type DeadManifest } from './mark.js';
import type { GcPlan, LinkRef } from './plan.js';
import { discard, quarantine, restore } from './quarantine.js';
import { forEachLimit } from './pool.js';
import type { BlobEntry } from './inventory.js';

const PARALLEL = 16;

export interface SweepOutcome {
  manifests: DeadManifest[];
  blobs: BlobEntry[];
  layerLinks: LinkRef[];
  /** Removed, then put back because a concurrent push turned out to need them. */
  restored: string[];
}

export async function sweep(registry: Registry, plan: GcPlan): Promise<SweepOutcome> {
  const driver = registry.driver;
  const removedManifests = await removeManifests(driver, plan);
  const parked: BlobEntry[] = [];
  await forEachLimit(plan.blobs, PARALLEL, async (blob) => {
    if (await quarantine(driver, blob.digest)) parked.push(blob);
  });
  const needed = await rescan(registry, plan, new Set(parked.map((b) => b.digest)));
  const restored: string[] = [];
  for (const m of removedManifests) {
    if (!needed.has(m.digest)) continue;
    await writeLink(driver, layout.revisionLink(m.repository, parse(m.digest)), parse(m.digest));
    const subject = (await plan.refsOf(m.digest))?.subject;
    if (subject) await writeLink(driver, layout.referrerLink(m.repository, parse(subject), parse(m.digest)), parse(m.digest));
    restored.push(m.digest);
  }
  const deleted: BlobEntry[] = [];
  await forEachLimit(parked, PARALLEL, async (blob) => {
    if (needed.has(blob.digest)) {
      await restore(driver, blob.digest);
      restored.push(blob.digest);
    } else {
      await discard(driver, blob.digest);
      deleted.push(blob);
    }
  });
  const gone = new Set(deleted.map((b) => b.digest));
  const links = [...plan.danglingLinks, ...staleLinksTo(plan, gone)];
  const layerLinks: LinkRef[] = [];
  for (const link of links) if (await removeLayerLink(driver, link, plan)) layerLinks.push(link);
  deleted.sort((a, b) => a.digest.localeCompare(b.digest));
  return { manifests: removedManifests.filter((m) => !needed.has(m.digest)), blobs: deleted, layerLinks, restored };
}

function parse(digest: string): Digest {
  return tryParseDigest(digest) as Digest;
}

/** Deletes dead manifests' revision links (and tag history and referrer entries), as Distribution does. */
async function removeManifests(driver: StorageDriver, plan: GcPlan): Promise<DeadManifest[]> {
  const removed: DeadManifest[] = [];
  for (const m of plan.manifests) {
    const d = parse(m.digest);
    const link = layout.revisionLink(m.repository, d);
    const now = await orUndefined(driver.stat(link));
    if (!now || now.modTime.getTime() !== m.modTime) continue; // re-pushed since the mark
    await deleteIfPresent(driver.delete(link.replace(/\/link$/, '')));
    removed.push(m);
    for (const tag of plan.inventories.get(m.repository)?.tags.keys() ?? []) {
      await deleteIfPresent(driver.delete(layout.tagIndexLink(m.repository, tag, d).replace(/\/link$/, '')));
    }
    const subject = (await plan.refsOf(m.digest))?.subject;
    if (subject) await deleteIfPresent(driver.delete(layout.referrerLink(m.repository, parse(subject), d).replace(/\/link$/, '')));
  }
  return removed;
}

/**
 * Everything that manifests written since the mark (new or rewritten revision links, new or
 * moved tags) reference, transitively, plus parked blobs that got a fresh layer link.
 */
async function rescan(registry: Registry, plan: GcPlan, parked: Set<string>): Promise<Set<string>> {
  const driver = registry.driver;
  const needed = new Set<string>();
  const fresh: string[] = [];
  for (const name of await repositoryNames(registry)) {
    const before = plan.inventories.get(name);
    for (const [digest, t] of await revisionTimes(driver, name)) {
      if (before?.revisions.get(digest) !== t) fresh.push(digest);
    }
    for (const [tag, state] of await readTags(driver, name)) {
      const old = before?.tags.get(tag);
      if (!old || old.digest !== state.digest || old.modTime !== state.modTime) fresh.push(state.digest);
    }
    if (parked.size === 0) continue;
    for (const digest of await digestDirs(driver, layersBase(name))) {
      if (!parked.has(digest)) continue;
      const [alg, hex] = digest.split(':') as [string, string];
      const info = await orUndefined(driver.stat(`${layersBase(name)}/${alg}/${hex}/link`));
      if (info && before?.layerLinks.get(digest) !== info.modTime.getTime()) needed.add(digest);
    }
  }
  const seen = new Set<string>();
  for (let digest = fresh.pop(); digest !== undefined; digest = fresh.pop()) {
    if (seen.has(digest)) continue;
    seen.add(digest);
    const refs = await plan.refsOf(digest);
    markManifest(digest, refs, needed);
    if (refs) fresh.push(...refs.children, ...(refs.subject ? [refs.subject] : []));
  }
  return needed;
}

/** Layer links to blobs that are (or, in a dry run, would be) gone. */
export function staleLinksTo(plan: GcPlan, gone: Set<string>): LinkRef[] {
  const out: LinkRef[] = [];
  for (const inv of plan.inventories.values()) {
    for (const digest of inv.layerLinks.keys()) if (gone.has(digest)) out.push({ repository: inv.name, digest });
  }
  return out;
}

/** Removes a layer link unless it was rewritten since the mark (a new upload of that content). */
async function removeLayerLink(driver: StorageDriver, link: LinkRef, plan: GcPlan): Promise<boolean> {
  const d = parse(link.digest);
  const path = layout.layerLink(link.repository, d);
  const info = await orUndefined(driver.stat(path));
  if (!info || info.modTime.getTime() !== plan.inventories.get(link.repository)?.layerLinks.get(link.digest)) return false;
  if (await orUndefined(driver.stat(layout.blobData(d)))) return false;
  await deleteIfPresent(driver.delete(path.replace(/\/link$/, '')));
  return true;
}

