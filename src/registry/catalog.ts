// The repository catalog, found the way Distribution finds it: every directory under
// `repositories/` that holds a `_manifests` directory is a repository.
import type { StorageDriver } from '../storage/driver.js';
import { basename, REPOSITORIES } from './layout.js';
import { orUndefined } from './storage-errors.js';

export class Catalog {
  readonly #driver: StorageDriver;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
  }

  /** All repository names in lexical order. */
  async names(): Promise<string[]> {
    return this.namesHolding('_manifests');
  }

  /** Names of the repositories that hold `marker` (`_manifests`, `_uploads` for the purger, `_layers` for the GC). */
  async namesHolding(marker: '_manifests' | '_uploads' | '_layers'): Promise<string[]> {
    const found: string[] = [];
    await this.#walk(REPOSITORIES, '', marker, found);
    return found.sort();
  }

  async #walk(path: string, prefix: string, marker: string, found: string[]): Promise<void> {
    const children = (await orUndefined(this.#driver.list(path))) ?? [];
    for (const child of children.sort()) {
      const name = basename(child);
      if (name.startsWith('_')) {
        if (name === marker && prefix) found.push(prefix);
        continue;
      }
      const info = await orUndefined(this.#driver.stat(child));
      if (info?.isDir) await this.#walk(child, prefix ? `${prefix}/${name}` : name, marker, found);
    }
  }
}

/** One page of a sorted list after `last`, at most `n` entries, and whether more follow. */
export function paginate(sorted: string[], n: number | undefined, last: string | undefined): { items: string[]; more: boolean } {
  const after = last === undefined ? sorted : sorted.filter((s) => s > last);
  if (n === undefined) return { items: after, more: false };
  return { items: after.slice(0, n), more: after.length > n };
}
