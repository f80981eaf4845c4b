// The listing index: what the catalog, tag lists, referrers and digest-to-tags are answered
// from. Walking storage for these is what makes Distribution's catalog take minutes on S3, so
// the production implementation is a metadata database (src/meta/listing-index.ts) written after
// storage on every change; the storage walk (storage-listing.ts) is the fallback and the source
// of truth the database is rebuilt and checked from.
import type { Digest } from '../oci/digest.js';

/** One page of a sorted list: at most `n` entries after `last`, and whether more follow. */
export interface Page {
  items: string[];
  more: boolean;
}

export interface PageRequest {
  n?: number | undefined;
  last?: string | undefined;
}

/**
 * What a manifest revision holds, for the reference tables beside the listing (src/meta/
 * references.ts): its own bytes, the blobs it references with their declared sizes, index
 * children and subject. Content is immutable, so one digest always carries the same facts.
 */
export interface ManifestFacts {
  digest: string;
  size: number;
  blobs: { digest: string; size: number }[];
  children: string[];
  subject?: string | undefined;
}

/** A change to one repository's listing, applied to the index after storage holds it. */
export type ListingChange =
  | { kind: 'manifest'; manifest?: ManifestFacts }
  /** A revision was removed (the repository may have gone with it: a `recheck` follows). */
  | { kind: 'unmanifest'; digest: string }
  | { kind: 'tag'; tag: string; digest: string }
  | { kind: 'untag'; tag: string }
  | { kind: 'referrer'; subject: string; referrer: string }
  | { kind: 'unreferrer'; subject: string; referrer: string }
  /** Something may have left the repository without manifests: check whether it still exists. */
  | { kind: 'recheck' };

/** What storage says about one repository: every fact the index keeps about it. */
export interface RepositoryListing {
  name: string;
  /** Tag -> manifest digest. */
  tags: Map<string, string>;
  referrers: { subject: string; referrer: string }[];
  /** Every revision with what it references (a storage read fills it; older callers may not). */
  manifests?: ManifestFacts[];
}

export interface ListingIndex {
  repositories(page: PageRequest): Promise<Page>;
  /** Undefined when the repository does not exist (holds no manifests). */
  tags(name: string, page: PageRequest): Promise<Page | undefined>;
  tagsOf(name: string, digest: Digest): Promise<string[]>;
  /** Manifests declaring `subject` as their subject, sorted by digest. */
  referrers(name: string, subject: Digest): Promise<Digest[]>;
  /**
   * Runs `write` (a storage write to `name`), then records `changes(result)` in the index.
   * An index that can fail between the two records its intent first, so the repository is
   * re-read from storage later instead of staying wrong.
   */
  change<T>(name: string, write: () => Promise<T>, changes: (result: T) => ListingChange[]): Promise<T>;
  /** Re-reads these repositories from storage: something changed them behind the core (the GC's sweep). */
  refresh(names: Iterable<string>): Promise<void>;
}

/** One page of an already sorted list (the walk's pagination; the database pages in SQL). */
export function paginate(sorted: string[], page: PageRequest): Page {
  const { n, last } = page;
  const after = last === undefined ? sorted : sorted.filter((s) => s > last);
  if (n === undefined) return { items: after, more: false };
  return { items: after.slice(0, n), more: after.length > n };
}

/** Every entry of a paged listing, page by page (for callers that need all of them). */
export async function all(list: (page: PageRequest) => Promise<Page | undefined>, size = 1000): Promise<string[] | undefined> {
  const out: string[] = [];
  let last: string | undefined;
  for (;;) {
    const page = await list({ n: size, last });
    if (!page) return last === undefined ? undefined : out;
    out.push(...page.items);
    last = page.items[page.items.length - 1];
    if (!page.more || last === undefined) return out;
  }
}
