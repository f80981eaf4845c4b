// The mark phase: which manifests of a repository stay, and which blobs the whole registry
// must keep. A manifest stays when it is tagged (or always, without --delete-untagged), when it
// is younger than the grace period (an index's children are pushed before the index is tagged),
// or when a staying manifest needs it: an index keeps its children, a manifest keeps its
// referrers (signatures, SBOMs), and a referrer keeps its subject. A chain with no tag anywhere
// is therefore collected as a whole.
import type { ManifestRefs } from './references.js';
import type { RepoInventory } from '../registry/maintenance.js';

export interface MarkOptions {
  deleteUntagged: boolean;
  /** Epoch ms; anything modified after it is protected. */
  cutoff: number;
}

export type RefsOf = (digest: string) => Promise<ManifestRefs | undefined>;

export interface DeadManifest {
  repository: string;
  digest: string;
  modTime: number;
}

/** Marks what the repository keeps into `marked`; returns the manifests it can lose. */
export async function markRepository(
  inv: RepoInventory, refsOf: RefsOf, options: MarkOptions, marked: Set<string>,
): Promise<DeadManifest[]> {
  const refs = new Map<string, ManifestRefs | undefined>();
  const referrers = new Map<string, string[]>();
  for (const digest of inv.revisions.keys()) {
    const r = await refsOf(digest);
    refs.set(digest, r);
    if (r?.subject) referrers.set(r.subject, [...(referrers.get(r.subject) ?? []), digest]);
  }
  const live = liveManifests(inv, refs, referrers, options);
  for (const digest of live) markManifest(digest, refs.get(digest), marked);
  const dead: DeadManifest[] = [];
  for (const [digest, modTime] of inv.revisions) {
    if (!live.has(digest)) dead.push({ repository: inv.name, digest, modTime });
  }
  return dead;
}

export function markManifest(digest: string, refs: ManifestRefs | undefined, marked: Set<string>): void {
  marked.add(digest);
  if (!refs) return;
  for (const b of refs.blobs) marked.add(b);
  for (const c of refs.children) marked.add(c);
  if (refs.subject) marked.add(refs.subject);
}

function liveManifests(
  inv: RepoInventory, refs: Map<string, ManifestRefs | undefined>, referrers: Map<string, string[]>, options: MarkOptions,
): Set<string> {
  const roots: string[] = [];
  const tagged = new Set([...inv.tags.values()].map((t) => t.digest));
  for (const [digest, modTime] of inv.revisions) {
    if (!options.deleteUntagged || tagged.has(digest) || modTime > options.cutoff) roots.push(digest);
  }
  const live = new Set<string>();
  const queue = [...roots];
  for (let digest = queue.pop(); digest !== undefined; digest = queue.pop()) {
    if (live.has(digest) || !inv.revisions.has(digest)) continue;
    live.add(digest);
    const r = refs.get(digest);
    if (r) queue.push(...r.children, ...(r.subject ? [r.subject] : []));
    queue.push(...(referrers.get(digest) ?? []));
  }
  return live;
}
