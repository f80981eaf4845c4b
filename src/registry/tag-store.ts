// Tags: `_manifests/tags/<tag>/current/link` names the manifest; `index/` keeps the history
// Distribution keeps. Writes to one tag are serialized so the last PUT wins cleanly.
import type { Digest } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { basename, layout } from './layout.js';
import { readLink, writeLink } from './links.js';
import { KeyedMutex } from './keyed-mutex.js';
import { deleteIfPresent, orUndefined } from './storage-errors.js';

export class TagStore {
  readonly #driver: StorageDriver;
  readonly #locks = new KeyedMutex();

  constructor(driver: StorageDriver) {
    this.#driver = driver;
  }

  async resolve(name: string, tag: string): Promise<Digest | undefined> {
    return readLink(this.#driver, layout.tagCurrentLink(name, tag));
  }

  async tag(name: string, tag: string, digest: Digest): Promise<void> {
    await this.#locks.run(`${name}:${tag}`, async () => {
      // `current` first: the tag's directory is what tags/list shows, so a crash between the two
      // writes must leave a tag that resolves, not an index entry naming a tag that does not.
      await writeLink(this.#driver, layout.tagCurrentLink(name, tag), digest);
      await writeLink(this.#driver, layout.tagIndexLink(name, tag, digest), digest);
    });
  }

  /** Removes a tag (only if it still names `onlyIf`, when given); false when it was not removed. */
  async untag(name: string, tag: string, onlyIf?: Digest): Promise<boolean> {
    return this.#locks.run(`${name}:${tag}`, async () => {
      const current = await this.resolve(name, tag);
      if (!current || (onlyIf && current.value !== onlyIf.value)) return false;
      await deleteIfPresent(this.#driver.delete(layout.tag(name, tag)));
      return true;
    });
  }

  /** Removes every tag of `name` currently pointing at `digest`. */
  async untagDigest(name: string, digest: Digest): Promise<string[]> {
    const removed: string[] = [];
    for (const tag of await this.list(name) ?? []) {
      const current = await this.resolve(name, tag);
      // Checked again under the tag's lock: a PUT may have moved the tag since it was read.
      if (current?.value === digest.value && (await this.untag(name, tag, digest))) removed.push(tag);
    }
    return removed;
  }

  /** Sorted tag names, or undefined when the repository does not exist. */
  async list(name: string): Promise<string[] | undefined> {
    const entries = await orUndefined(this.#driver.list(layout.tags(name)));
    if (entries === undefined) {
      // A repository exists once it holds a manifest (as for the catalog); blobs, uploads and
      // the empty directories a cancelled upload leaves on disk do not make one.
      const repo = await orUndefined(this.#driver.stat(`${layout.repository(name)}/_manifests`));
      return repo ? [] : undefined;
    }
    // A crash while a new tag's link was being written can leave its directory without the
    // link (the directory is made before the link is renamed into it); such a tag never existed
    // for any client, so it is not listed.
    const names = entries.map(basename);
    const present = await Promise.all(names.map(async (tag) => (await orUndefined(this.#driver.stat(layout.tagCurrentLink(name, tag)))) !== undefined));
    return names.filter((_, i) => present[i]).sort();
  }
}
