// The repository catalog: a repository is a directory under `repositories/` that holds a
// `_manifests` directory (Distribution's definition). Pages come from the listing index; the
// maintenance walks (GC, upload purger) still read storage, which is what they clean.
import type { StorageDriver } from '../storage/driver.js';
import { all, paginate, type ListingIndex, type Page, type PageRequest } from './listing-index.js';
import { StorageListing } from './storage-listing.js';

export { paginate };

export class Catalog {
  readonly #walk: StorageListing;
  readonly #index: ListingIndex;

  constructor(driver: StorageDriver, index?: ListingIndex) {
    this.#walk = new StorageListing(driver);
    this.#index = index ?? this.#walk;
  }

  /** One page of repository names in lexical order. */
  async page(page: PageRequest): Promise<Page> {
    return this.#index.repositories(page);
  }

  /** All repository names in lexical order. */
  async names(): Promise<string[]> {
    return (await all((p) => this.#index.repositories(p))) ?? [];
  }

  /**
   * Whether `name` holds manifests in storage (Distribution's definition of a repository):
   * asked of storage, not the index, so it holds between a write and its index update.
   */
  async has(name: string): Promise<boolean> {
    return this.#walk.exists(name);
  }

  /** Re-reads these repositories into the index: the GC's sweep deletes in storage directly. */
  async refresh(names: Iterable<string>): Promise<void> {
    await this.#index.refresh(names);
  }

  /** Names of the repositories in storage that hold `marker` (`_uploads` for the purger, `_layers` for the GC). */
  async namesHolding(marker: '_manifests' | '_uploads' | '_layers'): Promise<string[]> {
    return this.#walk.namesHolding(marker);
  }
}
