// Tags: `_manifests/tags/<tag>/current/link` names the manifest; `index/` keeps the history
// Distribution keeps. Writes to one tag are serialized so the last PUT wins cleanly; listings
// come from the listing index, which every write here keeps up to date.
import type { Digest } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { layout } from './layout.js';
import { readLink, writeLink } from './links.js';
import { KeyedMutex } from './keyed-mutex.js';
import { deleteIfPresent } from './storage-errors.js';
import { all, type ListingIndex, type Page, type PageRequest } from './listing-index.js';

export class TagStore {
  readonly #driver: StorageDriver;
  readonly #index: ListingIndex;
  readonly #locks = new KeyedMutex();

  constructor(driver: StorageDriver, index: ListingIndex) {
    this.#driver = driver;
    this.#index = index;
  }

  async resolve(name: string, tag: string): Promise<Digest | undefined> {
    return readLink(this.#driver, layout.tagCurrentLink(name, tag));
  }

  async tag(name: string, tag: string, digest: Digest): Promise<void> {
    await this.#locks.run(`${name}:${tag}`, () => this.#index.change(name, async () => {
      // `current` first: the tag's directory is what a storage walk lists, so a crash between
      // the two writes must leave a tag that resolves, not an index entry naming nothing.
      await writeLink(this.#driver, layout.tagCurrentLink(name, tag), digest);
      await writeLink(this.#driver, layout.tagIndexLink(name, tag, digest), digest);
    }, () => [{ kind: 'tag', tag, digest: digest.value }]));
  }

  /** Removes a tag (only if it still names `onlyIf`, when given); false when it was not removed. */
  async untag(name: string, tag: string, onlyIf?: Digest): Promise<boolean> {
    return this.#locks.run(`${name}:${tag}`, async () => {
      const current = await this.resolve(name, tag);
      if (!current || (onlyIf && current.value !== onlyIf.value)) return false;
      await this.#index.change(name, () => deleteIfPresent(this.#driver.delete(layout.tag(name, tag))), () => [{ kind: 'untag', tag }]);
      return true;
    });
  }

  /** Removes every tag of `name` currently pointing at `digest`. */
  async untagDigest(name: string, digest: Digest): Promise<string[]> {
    const removed: string[] = [];
    for (const tag of await this.#index.tagsOf(name, digest)) {
      // Checked again under the tag's lock: a PUT may have moved the tag since it was read.
      if (await this.untag(name, tag, digest)) removed.push(tag);
    }
    return removed;
  }

  /** Tags of `name` naming `digest`, sorted. */
  async tagsOf(name: string, digest: Digest): Promise<string[]> {
    return this.#index.tagsOf(name, digest);
  }

  /**
   * One page of sorted tag names, or undefined when the repository does not exist. `signal`
   * (the client went away) is for decorators that ask elsewhere (the pull-through cache).
   */
  async page(name: string, page: PageRequest, signal?: AbortSignal): Promise<Page | undefined> {
    return this.#index.tags(name, page);
  }

  /** Sorted tag names, or undefined when the repository does not exist. */
  async list(name: string): Promise<string[] | undefined> {
    return all((p) => this.#index.tags(name, p));
  }
}
