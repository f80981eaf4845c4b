// The sweep, made safe while clients push and pull. The danger is a manifest PUT that checks
// "this blob exists" just before we delete it: the client gets 201 and the image is broken.
// The ordering that prevents it pairs with manifest PUT (src/registry/manifest-store.ts):
//
//   PUT:  check references -> write manifest + revision link -> check again, now also that no
//         reference (nor the manifest itself) carries a GC deletion mark -> tag -> 201
//   GC:   mark the candidates (pending.ts) -> rescan revisions, tags and layer links for
//         anything new or rewritten since the mark phase -> keep what they reference -> delete
//         the rest -> clear the marks
//
// Either the PUT's second check runs after our marks were written (it refuses with
// MANIFEST_BLOB_UNKNOWN: the push fails, nothing acknowledged is lost), or it ran before, in
// which case its revision link was written before our rescan, which therefore sees it and keeps
// the content. The same holds for an index and its children, and for a re-push of an untagged
// manifest being deleted (its own digest is marked too). Content is only marked, never hidden,
// so pulls keep working until the delete; the delete happens only while the marks are still
// valid, else the run deletes nothing. What a client can still see is a refused push, when it
// reuses content the GC is deleting (it skipped the upload after a HEAD); retrying succeeds.
import type { Registry } from '../registry/registry.js';
import type { BlobEntry, Maintenance } from '../registry/maintenance.js';
import { markManifest, type DeadManifest } from './mark.js';
import type { GcPlan, LinkRef } from './plan.js';
import { MARK_TTL_MS, parse } from './pending.js';
import { forEachLimit } from './pool.js';

const PARALLEL = 16;

export interface SweepOutcome {
  manifests: DeadManifest[];
  blobs: BlobEntry[];
  layerLinks: LinkRef[];
  /** Marked, then kept because a push during the run turned out to need them. */
  restored: string[];
}

export async function sweep(registry: Registry, plan: GcPlan, now: () => number = Date.now): Promise<SweepOutcome> {
  const store = registry.maintenance;
  const expiresAt = now() + MARK_TTL_MS;
  const candidates = new Set([...plan.blobs.map((b) => b.digest), ...plan.manifests.map((m) => m.digest)]);
  await forEachLimit(candidates, PARALLEL, (digest) => store.markPending(parse(digest), expiresAt));
  try {
    const needed = await rescan(registry, plan, new Set(plan.blobs.map((b) => b.digest)));
    if (now() > expiresAt - MARK_TTL_MS / 10) throw new Error('the rescan outlasted the deletion marks; nothing was deleted');
    const manifests = await removeManifests(store, plan.manifests.filter((m) => !needed.has(m.digest)), plan);
    const blobs: BlobEntry[] = [];
    await forEachLimit(plan.blobs.filter((b) => !needed.has(b.digest)), PARALLEL, async (blob) => {
      await store.removeBlob(parse(blob.digest));
      blobs.push(blob);
    });
    const gone = new Set(blobs.map((b) => b.digest));
    const layerLinks: LinkRef[] = [];
    for (const link of [...plan.danglingLinks, ...staleLinksTo(plan, gone)]) {
      const judged = plan.inventories.get(link.repository)?.layerLinks.get(link.digest);
      if (await store.removeLayerLink(link.repository, parse(link.digest), judged)) layerLinks.push(link);
    }
    blobs.sort((a, b) => a.digest.localeCompare(b.digest));
    return { manifests, blobs, layerLinks, restored: [...candidates].filter((d) => needed.has(d)).sort() };
  } finally {
    await forEachLimit(candidates, PARALLEL, (digest) => store.clearPending(parse(digest)));
  }
}


/** Deletes dead manifests' revision links (and tag history and referrer entries), as Distribution does. */
async function removeManifests(store: Maintenance, dead: DeadManifest[], plan: GcPlan): Promise<DeadManifest[]> {
  const removed: DeadManifest[] = [];
  const histories = new Map<string, Map<string, string[]>>();
  const history = async (repository: string) => {
    let h = histories.get(repository);
    if (!h) histories.set(repository, (h = await tagHistory(store, repository, plan)));
    return h;
  };
  for (const m of dead) {
    const tags = (await history(m.repository)).get(m.digest) ?? [];
    const subject = (await plan.refsOf(m.digest))?.subject;
    // Skipped when re-pushed since the mark (its revision link changed).
    if (await store.removeRevision(m.repository, parse(m.digest), m.modTime, tags, subject ? parse(subject) : undefined)) removed.push(m);
  }
  return removed;
}

/** Which tags list each digest in their `index/` history (read once per repository). */
async function tagHistory(store: Maintenance, repository: string, plan: GcPlan): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const tag of plan.inventories.get(repository)?.tags.keys() ?? []) {
    for (const digest of await store.inventory.tagHistory(repository, tag)) {
      out.set(digest, [...(out.get(digest) ?? []), tag]);
    }
  }
  return out;
}

/**
 * Everything that manifests written since the mark (new or rewritten revision links, new or
 * moved tags) reference, transitively, plus candidate blobs that got a fresh layer link.
 */
async function rescan(registry: Registry, plan: GcPlan, blobCandidates: Set<string>): Promise<Set<string>> {
  const inventory = registry.maintenance.inventory;
  const needed = new Set<string>();
  const fresh: string[] = [];
  for (const name of await inventory.repositories()) {
    const before = plan.inventories.get(name);
    for (const [digest, t] of await inventory.revisionTimes(name)) {
      if (before?.revisions.get(digest) !== t) fresh.push(digest);
    }
    for (const [tag, state] of await inventory.tags(name)) {
      const old = before?.tags.get(tag);
      if (!old || old.digest !== state.digest || old.modTime !== state.modTime) fresh.push(state.digest);
    }
    if (blobCandidates.size === 0) continue;
    for (const digest of await inventory.layerDigests(name)) {
      if (!blobCandidates.has(digest)) continue;
      const t = await inventory.layerLinkTime(name, parse(digest));
      if (t !== undefined && before?.layerLinks.get(digest) !== t) needed.add(digest);
    }
  }
  const seen = new Set<string>();
  for (;;) {
    for (let digest = fresh.pop(); digest !== undefined; digest = fresh.pop()) {
      if (seen.has(digest)) continue;
      seen.add(digest);
      const refs = await plan.refsOf(digest);
      markManifest(digest, refs, needed);
      if (refs) fresh.push(...refs.children, ...(refs.subject ? [refs.subject] : []));
    }
    // A condemned referrer whose subject is needed again (re-tagged) is needed too.
    for (const m of plan.manifests) {
      const subject = seen.has(m.digest) ? undefined : (await plan.refsOf(m.digest))?.subject;
      if (subject && seen.has(subject)) fresh.push(m.digest);
    }
    if (fresh.length === 0) return needed;
  }
}

/** Layer links to blobs that are (or, in a dry run, would be) gone. */
export function staleLinksTo(plan: GcPlan, gone: Set<string>): LinkRef[] {
  const out: LinkRef[] = [];
  for (const inv of plan.inventories.values()) {
    for (const digest of inv.layerLinks.keys()) if (gone.has(digest)) out.push({ repository: inv.name, digest });
  }
  return out;
}
