// What eviction removes from one upstream's cache, decided over its bookkeeping rows alone (no
// I/O): the cache is cut into images, each a root manifest (one no other cached manifest of its
// repository lists as an index child or as its subject) with everything it reaches: index
// children, referrers, config and layers. An image was last pulled when any manifest only it
// reaches was (blob rows and shared children are shared between images of a repository, so
// they say nothing about which image was pulled). Images not pulled within maxage go first, then the least recently pulled
// until the upstream's size is at most maxsize. A manifest or blob another remaining image of
// the same repository still reaches stays; blobs no cached manifest reaches are images of
// their own.
import type { ManifestRefs } from '../gc/references.js';

export interface CacheEntry {
  repository: string;
  digest: string;
  kind: 'manifest' | 'blob';
  size: number;
  lastPulledAt: number;
}

export interface EvictionLimits {
  /** 0 = no size limit. */
  maxBytes: number;
  /** 0 = no age limit. */
  maxAgeMs: number;
  now: number;
}

export interface CachedImage {
  repository: string;
  /** The root manifest, or the blob of a blob-only entry. */
  root: string;
  /** Manifests reached from the root, parents before children. */
  manifests: string[];
  blobs: string[];
  lastPulledAt: number;
}

export interface Eviction {
  image: CachedImage;
  reason: 'maxage' | 'maxsize';
  /** What this eviction takes away (the rest is still needed by a remaining image). */
  manifests: string[];
  blobs: string[];
  /** Content no remaining row of this upstream refers to any more, and its bytes. */
  freed: { digest: string; size: number }[];
  freedBytes: number;
}

export interface EvictionPlan {
  bytesBefore: number;
  bytesAfter: number;
  evictions: Eviction[];
}

export type RefsOf = (digest: string) => ManifestRefs | undefined;

/** The upstream's size: each distinct digest once, however many repositories hold it. */
export function cacheBytes(entries: CacheEntry[]): number {
  const sizes = new Map(entries.map((e) => [e.digest, e.size]));
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
}

export function planEviction(entries: CacheEntry[], refsOf: RefsOf, limits: EvictionLimits): EvictionPlan {
  const images = cachedImages(entries, refsOf).sort((a, b) => a.lastPulledAt - b.lastPulledAt || a.root.localeCompare(b.root));
  const sizes = new Map(entries.map((e) => [e.digest, e.size]));
  // How many remaining images reach each (repository, digest) row, and how many rows each digest has.
  const reach = new Map<string, number>();
  const rowsOf = new Map<string, number>();
  for (const e of entries) rowsOf.set(e.digest, (rowsOf.get(e.digest) ?? 0) + 1);
  for (const image of images) for (const d of members(image)) reach.set(key(image.repository, d), (reach.get(key(image.repository, d)) ?? 0) + 1);
  const bytesBefore = cacheBytes(entries);
  let bytes = bytesBefore;
  const evictions: Eviction[] = [];
  const evict = (image: CachedImage, reason: Eviction['reason']) => {
    const gone = new Set<string>();
    const freed: { digest: string; size: number }[] = [];
    for (const d of members(image)) {
      const k = key(image.repository, d);
      const left = (reach.get(k) ?? 1) - 1;
      reach.set(k, left);
      if (left > 0) continue;
      gone.add(d);
      const rows = (rowsOf.get(d) ?? 1) - 1;
      rowsOf.set(d, rows);
      if (rows === 0) freed.push({ digest: d, size: sizes.get(d) ?? 0 });
    }
    const freedBytes = freed.reduce((t, f) => t + f.size, 0);
    bytes -= freedBytes;
    evictions.push({
      image, reason, freed, freedBytes,
      manifests: image.manifests.filter((d) => gone.has(d)), blobs: image.blobs.filter((d) => gone.has(d)),
    });
  };
  const remaining: CachedImage[] = [];
  for (const image of images) {
    if (limits.maxAgeMs > 0 && image.lastPulledAt < limits.now - limits.maxAgeMs) evict(image, 'maxage');
    else remaining.push(image);
  }
  for (const image of remaining) {
    if (limits.maxBytes <= 0 || bytes <= limits.maxBytes) break;
    evict(image, 'maxsize');
  }
  return { bytesBefore, bytesAfter: bytes, evictions };
}

/** The upstream's entries cut into images (see the top of this file). */
export function cachedImages(entries: CacheEntry[], refsOf: RefsOf): CachedImage[] {
  const byRepo = new Map<string, CacheEntry[]>();
  for (const e of entries) appendTo(byRepo, e.repository, e);
  const out: CachedImage[] = [];
  for (const [repository, rows] of byRepo) out.push(...imagesOfRepository(repository, rows, refsOf));
  return out;
}

function imagesOfRepository(repository: string, rows: CacheEntry[], refsOf: RefsOf): CachedImage[] {
  const manifests = new Map(rows.filter((r) => r.kind === 'manifest').map((r) => [r.digest, r]));
  const blobs = new Map(rows.filter((r) => r.kind === 'blob').map((r) => [r.digest, r]));
  // Edges from a manifest to what belongs to its image: children, and referrers of it.
  const next = new Map<string, string[]>();
  const hasParent = new Set<string>();
  const edge = (from: string, to: string) => {
    appendTo(next, from, to);
    hasParent.add(to);
  };
  for (const digest of manifests.keys()) {
    const refs = refsOf(digest);
    for (const child of refs?.children ?? []) if (manifests.has(child) && child !== digest) edge(digest, child);
    if (refs?.subject && manifests.has(refs.subject) && refs.subject !== digest) edge(refs.subject, digest);
  }
  const out: CachedImage[] = [];
  const covered = new Set<string>();
  const roots = [...manifests.keys()].filter((d) => !hasParent.has(d));
  // A cycle (impossible with content addresses, but bookkeeping is not proof) has no root: each
  // manifest no image reached becomes the root of its own. A root is reached by nothing else.
  for (const root of [...roots, ...manifests.keys()]) {
    if (covered.has(root)) continue;
    const reached: string[] = [];
    const seen = new Set<string>();
    for (const queue = [root]; queue.length > 0;) {
      const d = queue.shift() as string;
      if (seen.has(d)) continue;
      seen.add(d);
      reached.push(d);
      queue.push(...(next.get(d) ?? []));
    }
    reached.forEach((d) => covered.add(d));
    const imageBlobs = new Set<string>();
    for (const d of reached) for (const b of refsOf(d)?.blobs ?? []) if (blobs.has(b)) imageBlobs.add(b);
    imageBlobs.forEach((b) => covered.add(b));
    out.push({ repository, root, manifests: reached, blobs: [...imageBlobs], lastPulledAt: 0 });
  }
  // A child two indexes share says nothing about which of them was pulled: an image's time is
  // that of the manifests only it reaches (its root always is one).
  const sharedBy = new Map<string, number>();
  for (const image of out) for (const d of image.manifests) sharedBy.set(d, (sharedBy.get(d) ?? 0) + 1);
  for (const image of out) {
    const own = image.manifests.filter((d) => d === image.root || sharedBy.get(d) === 1);
    image.lastPulledAt = Math.max(...own.map((d) => manifests.get(d)?.lastPulledAt ?? 0));
  }
  for (const [digest, row] of blobs) {
    if (!covered.has(digest)) out.push({ repository, root: digest, manifests: [], blobs: [digest], lastPulledAt: row.lastPulledAt });
  }
  return out;
}

/** Appends in place: spreading a growing list per row would be quadratic in a large cache. */
export function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function members(image: CachedImage): string[] {
  return [...image.manifests, ...image.blobs];
}

function key(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}
