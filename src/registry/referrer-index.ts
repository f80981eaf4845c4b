// The referrers index: for each subject digest, the manifests that declare it as `subject`.
// Kept in storage as link files under `_referrers/` (which Distribution ignores, and from which
// the listing index is rebuilt), updated on manifest PUT and DELETE; read from the listing index.
import type { Digest } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { layout } from './layout.js';
import { writeLink } from './links.js';
import { deleteIfPresent } from './storage-errors.js';
import type { ListingIndex } from './listing-index.js';

export class ReferrerIndex {
  readonly #driver: StorageDriver;
  readonly #index: ListingIndex;

  constructor(driver: StorageDriver, index: ListingIndex) {
    this.#driver = driver;
    this.#index = index;
  }

  async add(name: string, subject: Digest, referrer: Digest): Promise<void> {
    await this.#index.change(name, () => writeLink(this.#driver, layout.referrerLink(name, subject, referrer), referrer),
      () => [{ kind: 'referrer', subject: subject.value, referrer: referrer.value }]);
  }

  async remove(name: string, subject: Digest, referrer: Digest): Promise<void> {
    const link = layout.referrerLink(name, subject, referrer);
    await this.#index.change(name, () => deleteIfPresent(this.#driver.delete(link.slice(0, link.lastIndexOf('/')))),
      () => [{ kind: 'unreferrer', subject: subject.value, referrer: referrer.value }]);
  }

  async list(name: string, subject: Digest): Promise<Digest[]> {
    return this.#index.referrers(name, subject);
  }
}
