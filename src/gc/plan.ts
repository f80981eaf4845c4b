// Mark, then list what a sweep may remove: untagged manifests nothing needs (with
// --delete-untagged), blobs no kept manifest references, and layer links to blobs that are gone.
// Everything modified after the cutoff (now minus the grace period) is left alone: it may belong
// to a push in flight whose manifest has not arrived yet.
import type { Registry } from '../registry/registry.js';
import type { BlobEntry, RepoInventory, StorageInventory } from '../registry/maintenance.js';
import { markRepository, type DeadManifest, type MarkOptions, type RefsOf } from './mark.js';
import { manifestRefs, type ManifestRefs } from './references.js';
import { parse } from './pending.js';

export interface LinkRef {
  repository: string;
  digest: string;
}

export interface GcPlan {
  inventories: Map<string, RepoInventory>;
  marked: Set<string>;
  manifests: DeadManifest[];
  blobs: BlobEntry[];
  /** Layer links whose blob is already missing. */
  danglingLinks: LinkRef[];
  blobsSeen: number;
  refsOf: RefsOf;
}

/** Parsed references per manifest digest, shared by all repositories (content is global). */
export function refsReader(inventory: StorageInventory): RefsOf {
  const cache = new Map<string, ManifestRefs | undefined>();
  return async (digest) => {
    if (cache.has(digest)) return cache.get(digest);
    const content = await inventory.content(parse(digest));
    const refs = content ? manifestRefs(content) : undefined;
    cache.set(digest, refs);
    return refs;
  };
}

export async function planCollection(registry: Registry, options: MarkOptions): Promise<GcPlan> {
  const inventory = registry.maintenance.inventory;
  const refsOf = refsReader(inventory);
  const inventories = new Map<string, RepoInventory>();
  const marked = new Set<string>();
  const manifests: DeadManifest[] = [];
  /** Newest layer link per blob digest, over all repositories. */
  const newestLink = new Map<string, number>();
  for (const name of await inventory.repositories()) {
    const inv = await inventory.inventory(name);
    inventories.set(name, inv);
    manifests.push(...await markRepository(inv, refsOf, options, marked));
    for (const [digest, t] of inv.layerLinks) newestLink.set(digest, Math.max(t, newestLink.get(digest) ?? 0));
  }
  const blobs: BlobEntry[] = [];
  const present = new Set<string>();
  let blobsSeen = 0;
  await inventory.blobs((blob) => {
    blobsSeen++;
    present.add(blob.digest);
    if (marked.has(blob.digest) || blob.modTime > options.cutoff) return;
    // A fresh layer link means a push just uploaded (or mounted) this content: its manifest follows.
    if ((newestLink.get(blob.digest) ?? 0) > options.cutoff) return;
    blobs.push(blob);
  });
  const danglingLinks: LinkRef[] = [];
  for (const inv of inventories.values()) {
    for (const [digest, t] of inv.layerLinks) {
      if (!present.has(digest) && t <= options.cutoff) danglingLinks.push({ repository: inv.name, digest });
    }
  }
  blobs.sort((a, b) => a.digest.localeCompare(b.digest));
  return { inventories, marked, manifests, blobs, danglingLinks, blobsSeen, refsOf };
}
