// The referrers index: for each subject digest, the manifests that declare it as `subject`.
// Kept as link files under `_referrers/`, updated on manifest PUT and DELETE.
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { isSupportedAlgorithm } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { basename, layout } from './layout.js';
import { writeLink } from './links.js';
import { deleteIfPresent, orUndefined } from './storage-errors.js';

export class ReferrerIndex {
  readonly #driver: StorageDriver;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
  }

  async add(name: string, subject: Digest, referrer: Digest): Promise<void> {
    await writeLink(this.#driver, layout.referrerLink(name, subject, referrer), referrer);
  }

  async remove(name: string, subject: Digest, referrer: Digest): Promise<void> {
    const link = layout.referrerLink(name, subject, referrer);
    await deleteIfPresent(this.#driver.delete(link.slice(0, link.lastIndexOf('/'))));
  }

  async list(name: string, subject: Digest): Promise<Digest[]> {
    const root = layout.referrersOf(name, subject);
    const out: Digest[] = [];
    for (const algDir of (await orUndefined(this.#driver.list(root))) ?? []) {
      const algorithm = basename(algDir);
      if (!isSupportedAlgorithm(algorithm)) continue;
      for (const hexDir of (await orUndefined(this.#driver.list(algDir))) ?? []) {
        const parsed = tryParseDigest(`${algorithm}:${basename(hexDir)}`);
        if (typeof parsed !== 'string') out.push(parsed);
      }
    }
    return out.sort((a, b) => a.value.localeCompare(b.value));
  }
}
