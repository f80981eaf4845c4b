// What deleting some manifests of a repository would free, exactly, from the reference tables
// (src/meta/references.ts) rather than by reading manifests: a blob is freed when every
// reference the repository holds to it comes from the deleted manifests and no other repository
// references it. The garbage collector frees those bytes (the delete itself only unlinks).
//
// Deleting an index or a signed image leaves its index children and its referrers untagged.
// Whether they go too depends on the collector (gc.untagged: delete, or `berth gc
// --delete-untagged`), so the preview gives both figures: the chosen manifests alone, and with
// the manifests they leave untagged and unreferenced.
import type { Kysely } from 'kysely';
import type { MetaTables } from './tables/index.js';

export interface DeletionPreview {
  repository: string;
  /** The chosen manifests. */
  manifests: string[];
  /** Distinct bytes the chosen manifests reference (their own bytes, configs, layers). */
  totalBytes: number;
  /** Bytes freed once the chosen manifests are deleted and the collector has run. */
  freedBytes: number;
  /** Index children and referrers the deletion leaves untagged and referenced by nothing else. */
  untagged: { manifests: string[]; totalBytes: number; freedBytes: number };
}

/** Thrown for a digest the repository does not hold (the caller answers MANIFEST_UNKNOWN). */
export class UnknownManifestError extends Error {
  constructor(readonly digest: string) { super(`the repository holds no manifest ${digest}`); }
}

const CHUNK = 400;

export async function previewDeletion(db: Kysely<MetaTables>, repository: string, digests: string[]): Promise<DeletionPreview> {
  const chosen = [...new Set(digests)];
  const held = new Set(await inChunks(chosen, (part) => db.selectFrom('berth_ref_manifest').select('digest')
    .where('repository', '=', repository).where('digest', 'in', part).execute().then((rows) => rows.map((r) => r.digest))));
  const missing = chosen.find((d) => !held.has(d));
  if (missing) throw new UnknownManifestError(missing);
  const leftovers = await untaggedLeftovers(db, repository, new Set(chosen));
  const alone = await freed(db, repository, chosen);
  const withLeftovers = await freed(db, repository, [...chosen, ...leftovers]);
  return {
    repository, manifests: chosen, totalBytes: alone.total, freedBytes: alone.freed,
    untagged: { manifests: leftovers, totalBytes: withLeftovers.total, freedBytes: withLeftovers.freed },
  };
}

/**
 * Children and referrers of the going manifests (transitively) that have no tag and that no
 * manifest staying lists as a child.
 */
async function untaggedLeftovers(db: Kysely<MetaTables>, repository: string, chosen: Set<string>): Promise<string[]> {
  const going = new Set(chosen);
  const leftovers: string[] = [];
  let frontier = [...chosen];
  while (frontier.length > 0) {
    const children = await inChunks(frontier, (part) => db.selectFrom('berth_ref_child').select('child as digest')
      .where('repository', '=', repository).where('parent', 'in', part).execute());
    const referrers = await inChunks(frontier, (part) => db.selectFrom('berth_ref_manifest').select('digest')
      .where('repository', '=', repository).where('subject', 'in', part).execute());
    const candidates = [...new Set([...children, ...referrers].map((r) => r.digest))].filter((d) => !going.has(d));
    if (candidates.length === 0) break;
    const tagged = new Set(await inChunks(candidates, (part) => db.selectFrom('berth_listing_tag').select('digest')
      .where('repository', '=', repository).where('digest', 'in', part).execute().then((rows) => rows.map((r) => r.digest))));
    const parents = await inChunks(candidates, (part) => db.selectFrom('berth_ref_child').select(['child', 'parent'])
      .where('repository', '=', repository).where('child', 'in', part).execute());
    const keptByParent = new Set(parents.filter((p) => !going.has(p.parent)).map((p) => p.child));
    frontier = candidates.filter((d) => !tagged.has(d) && !keptByParent.has(d));
    for (const d of frontier) { going.add(d); leftovers.push(d); }
  }
  return leftovers.sort();
}

/** Distinct bytes the manifests reference, and those nothing staying (in this or any repository) references. */
async function freed(db: Kysely<MetaTables>, repository: string, manifests: string[]): Promise<{ total: number; freed: number }> {
  const rows = await inChunks(manifests, (part) => db.selectFrom('berth_ref_manifest_blob').select(['blob', 'size'])
    .where('repository', '=', repository).where('manifest', 'in', part).execute());
  const uses = new Map<string, { count: number; size: number }>();
  for (const r of rows) {
    const u = uses.get(r.blob);
    if (u) u.count++;
    else uses.set(r.blob, { count: 1, size: Number(r.size) });
  }
  const blobs = [...uses.keys()];
  const counts = await inChunks(blobs, (part) => db.selectFrom('berth_usage_repository_blob').select(['repository', 'blob', 'refs'])
    .where('blob', 'in', part).execute());
  const keptElsewhere = new Set<string>();
  for (const c of counts) {
    if (c.repository !== repository || Number(c.refs) > uses.get(c.blob)!.count) keptElsewhere.add(c.blob);
  }
  for (const d of await stillNeeded(db, repository, manifests)) keptElsewhere.add(d);
  let total = 0;
  let free = 0;
  for (const [blob, { size }] of uses) {
    total += size;
    if (!keptElsewhere.has(blob)) free += size;
  }
  return { total, freed: free };
}

/**
 * Going manifests whose own bytes the collector keeps anyway: an index staying lists it as a
 * child, or a referrer staying names it as its subject (src/gc/mark.ts marks both).
 */
async function stillNeeded(db: Kysely<MetaTables>, repository: string, manifests: string[]): Promise<string[]> {
  const going = new Set(manifests);
  const parents = await inChunks(manifests, (part) => db.selectFrom('berth_ref_child').select(['repository', 'parent as holder', 'child as digest'])
    .where('child', 'in', part).execute());
  const referrers = await inChunks(manifests, (part) => db.selectFrom('berth_ref_manifest').select(['repository', 'digest as holder', 'subject as digest'])
    .where('subject', 'in', part).execute());
  return [...parents, ...referrers].filter((r) => r.repository !== repository || !going.has(r.holder)).map((r) => r.digest as string);
}

async function inChunks<T>(values: string[], query: (part: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < values.length; i += CHUNK) out.push(...await query(values.slice(i, i + CHUNK)));
  return out;
}
