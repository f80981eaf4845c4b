// The listing index answered by walking storage, as Distribution does: the source of truth the
// metadata index is built from and checked against, and the index itself when none is configured.
import { isSupportedAlgorithm, tryParseDigest, type Digest } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { basename, layout, REPOSITORIES } from './layout.js';
import { readLink } from './links.js';
import { orUndefined } from './storage-errors.js';
import { paginate, type ListingChange, type ListingIndex, type ManifestFacts, type Page, type PageRequest, type RepositoryListing } from './listing-index.js';
import { manifestFacts } from './manifest-facts.js';

const PARALLEL = 16;

export class StorageListing implements ListingIndex {
  readonly #driver: StorageDriver;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
  }

  async repositories(page: PageRequest): Promise<Page> {
    return paginate(await this.namesHolding('_manifests'), page);
  }

  async tags(name: string, page: PageRequest): Promise<Page | undefined> {
    const tags = await this.#tagNames(name);
    return tags === undefined ? undefined : paginate(tags, page);
  }

  async tagsOf(name: string, digest: Digest): Promise<string[]> {
    const tags = await this.#tagMap(name);
    return [...tags ?? []].filter(([, d]) => d === digest.value).map(([t]) => t).sort();
  }

  async referrers(name: string, subject: Digest): Promise<Digest[]> {
    return (await this.#digestDirs(layout.referrersOf(name, subject))).sort((a, b) => a.value.localeCompare(b.value));
  }

  async change<T>(_name: string, write: () => Promise<T>, _changes: (result: T) => ListingChange[]): Promise<T> {
    return write();
  }

  async refresh(_names: Iterable<string>): Promise<void> {
    // Storage is what this index reads: nothing to refresh.
  }

  /** Names of the repositories that hold `marker` (`_manifests` for the catalog, `_uploads` for the purger, `_layers` for the GC), sorted. */
  async namesHolding(marker: '_manifests' | '_uploads' | '_layers', onProgress?: (found: number) => void): Promise<string[]> {
    const found: string[] = [];
    await this.#walk(REPOSITORIES, '', marker, found, onProgress);
    return found.sort();
  }

  /** Whether `name` holds manifests (is in the catalog). */
  async exists(name: string): Promise<boolean> {
    return (await orUndefined(this.#driver.stat(`${layout.repository(name)}/_manifests`))) !== undefined;
  }

  /** Everything the index keeps about `name`, read from storage; undefined when it holds no manifests. */
  async read(name: string): Promise<RepositoryListing | undefined> {
    const tags = await this.#tagMap(name);
    if (tags === undefined) return undefined;
    const referrers: RepositoryListing['referrers'] = [];
    const root = `${layout.repository(name)}/_referrers`;
    for (const subject of await this.#digestDirs(root)) {
      for (const referrer of await this.#digestDirs(layout.referrersOf(name, subject))) {
        referrers.push({ subject: subject.value, referrer: referrer.value });
      }
    }
    return { name, tags, referrers, manifests: await this.#manifests(name) };
  }

  /** Every revision whose bytes are stored, with what it references (the reference tables' import). */
  async #manifests(name: string): Promise<ManifestFacts[]> {
    const out: ManifestFacts[] = [];
    const size = async (digest: string) => {
      const d = tryParseDigest(digest);
      if (typeof d === 'string') return undefined;
      const info = await orUndefined(this.#driver.stat(layout.blobData(d)));
      return info && !info.isDir ? info.size : undefined;
    };
    const revisions = await this.#digestDirs(`${layout.repository(name)}/_manifests/revisions`);
    await forEachLimit(revisions, PARALLEL, async (digest) => {
      if (!(await readLink(this.#driver, layout.revisionLink(name, digest)))) return;
      const content = await orUndefined(this.#driver.getContent(layout.blobData(digest)));
      // A revision whose bytes are gone serves nothing; the reconciler reports it.
      if (content) out.push(await manifestFacts(digest.value, content, undefined, size));
    });
    return out.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }

  async #walk(path: string, prefix: string, marker: string, found: string[], onProgress?: (found: number) => void): Promise<void> {
    const children = (await orUndefined(this.#driver.list(path))) ?? [];
    const dirs: { child: string; name: string }[] = [];
    for (const child of children) {
      const name = basename(child);
      if (!name.startsWith('_')) dirs.push({ child, name });
      else if (name === marker && prefix) {
        found.push(prefix);
        onProgress?.(found.length);
      }
    }
    // Sibling directories are walked a few at a time: on S3 each list is a round trip.
    await forEachLimit(dirs, PARALLEL, async ({ child, name }) => {
      const info = await orUndefined(this.#driver.stat(child));
      if (info?.isDir) await this.#walk(child, prefix ? `${prefix}/${name}` : name, marker, found, onProgress);
    });
  }

  async #tagNames(name: string): Promise<string[] | undefined> {
    const tags = await this.#tagMap(name);
    return tags === undefined ? undefined : [...tags.keys()].sort();
  }

  /** Tag -> digest; undefined when the repository does not exist. */
  async #tagMap(name: string): Promise<Map<string, string> | undefined> {
    const entries = await orUndefined(this.#driver.list(layout.tags(name)));
    if (entries === undefined) {
      // A repository exists once it holds a manifest (as for the catalog); blobs, uploads and
      // the empty directories a cancelled upload leaves on disk do not make one.
      const repo = await orUndefined(this.#driver.stat(`${layout.repository(name)}/_manifests`));
      return repo ? new Map() : undefined;
    }
    // A crash while a new tag's link was being written can leave its directory without the
    // link (the directory is made before the link is renamed into it); such a tag never existed
    // for any client, so it is not listed.
    const out = new Map<string, string>();
    await forEachLimit(entries.map(basename), PARALLEL, async (tag) => {
      const digest = await readLink(this.#driver, layout.tagCurrentLink(name, tag));
      if (digest) out.set(tag, digest.value);
    });
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** `<base>/<alg>/<hex>` directories as digests. */
  async #digestDirs(base: string): Promise<Digest[]> {
    const out: Digest[] = [];
    for (const algDir of (await orUndefined(this.#driver.list(base))) ?? []) {
      const algorithm = basename(algDir);
      if (!isSupportedAlgorithm(algorithm)) continue;
      for (const hexDir of (await orUndefined(this.#driver.list(algDir))) ?? []) {
        const parsed = tryParseDigest(`${algorithm}:${basename(hexDir)}`);
        if (typeof parsed !== 'string') out.push(parsed);
      }
    }
    return out;
  }
}

async function forEachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
