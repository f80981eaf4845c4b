// The core's door for maintenance: what the GC (mark, plan, sweep, lock, pending marks), proxy
// eviction, retention and the metrics scan need to know about and change in storage, without
// reaching for the driver or the layout. Reads are the inventory (a storage walk, the source of
// truth the listing index is checked against); writes are the sweep's conditional removals,
// each refusing when the link was rewritten since it was read (a push in flight wins).
import type { Digest } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { gcPending, layout, ROOT } from './layout.js';
import { deleteIfPresent, orUndefined } from './storage-errors.js';
import {
  digestDirs, inventoryOf, layersBase, listBlobs, readTag, readTags, revisionsBase, revisionTimes,
  type BlobEntry, type RepoInventory, type TagState,
} from './maintenance-walk.js';
import { StorageListing } from './storage-listing.js';
import { StorageLock, type LockOptions } from './storage-lock.js';

export type { BlobEntry, RepoInventory, TagState };

const PENDING = `${ROOT}/_berth/gc/pending`;

/** What storage holds, read by walking it. */
export class StorageInventory {
  readonly #driver: StorageDriver;
  readonly #walk: StorageListing;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
    this.#walk = new StorageListing(driver);
  }

  /** Names of every repository holding manifests or layer links (the catalog lists only the former). */
  async repositories(): Promise<string[]> {
    const names = new Set([...await this.#walk.namesHolding('_manifests'), ...await this.#walk.namesHolding('_layers')]);
    return [...names].sort();
  }

  /** A repository's revisions, tags and layer links with their modification times. */
  inventory(name: string): Promise<RepoInventory> {
    return inventoryOf(this.#driver, name);
  }

  /** Manifest digest -> revision link mtime (ms). */
  revisionTimes(name: string): Promise<Map<string, number>> {
    return revisionTimes(this.#driver, name);
  }

  /** Tag -> current digest and when it was last pushed. */
  tags(name: string): Promise<Map<string, TagState>> {
    return readTags(this.#driver, name);
  }

  tag(name: string, tag: string): Promise<TagState | undefined> {
    return readTag(this.#driver, name, tag);
  }

  /** Digests a tag has ever pointed at (its `index/` history). */
  tagHistory(name: string, tag: string): Promise<string[]> {
    return digestDirs(this.#driver, `${layout.tag(name, tag)}/index`);
  }

  /** Digests linked into a repository, without reading the links (cheap: listings only). */
  async linked(name: string): Promise<{ layers: string[]; revisions: string[] }> {
    const [layers, revisions] = await Promise.all([this.layerDigests(name), digestDirs(this.#driver, revisionsBase(name))]);
    return { layers, revisions };
  }

  /** Digests of a repository's layer links (listings only). */
  layerDigests(name: string): Promise<string[]> {
    return digestDirs(this.#driver, layersBase(name));
  }

  /** mtime (ms) of one layer link, undefined when absent. */
  async layerLinkTime(name: string, digest: Digest): Promise<number | undefined> {
    const info = await orUndefined(this.#driver.stat(layout.layerLink(name, digest)));
    return info && !info.isDir ? info.modTime.getTime() : undefined;
  }

  /** mtime (ms) of one revision link (rewritten by every PUT of the manifest), undefined when absent. */
  async revisionTime(name: string, digest: Digest): Promise<number | undefined> {
    const info = await orUndefined(this.#driver.stat(layout.revisionLink(name, digest)));
    return info && !info.isDir ? info.modTime.getTime() : undefined;
  }

  /** Every blob in storage with its size and mtime. */
  blobs(visit: (blob: BlobEntry) => void): Promise<void> {
    return listBlobs(this.#driver, visit);
  }

  /** A blob's bytes (manifests: small), undefined when absent. */
  content(digest: Digest): Promise<Buffer | undefined> {
    return orUndefined(this.#driver.getContent(layout.blobData(digest)));
  }
}

/** Storage-backed maintenance: the inventory, GC deletion marks, conditional removals and the GC lock. */
export class Maintenance {
  readonly #driver: StorageDriver;
  readonly inventory: StorageInventory;

  constructor(driver: StorageDriver) {
    this.#driver = driver;
    this.inventory = new StorageInventory(driver);
  }

  /** The lock one collector at a time holds (in storage, so it spans replicas). */
  lock(options?: LockOptions): StorageLock {
    return new StorageLock(this.#driver, options);
  }

  /** Marks content the sweep is about to delete; a manifest PUT refuses to reference it until `expiresAt`. */
  async markPending(digest: Digest, expiresAt: number): Promise<void> {
    await this.#driver.putContent(gcPending(digest), new Date(expiresAt).toISOString());
  }

  async clearPending(digest: Digest): Promise<void> {
    await deleteIfPresent(this.#driver.delete(gcPending(digest)));
  }

  /** Clears every mark (an interrupted run's); returns how many there were. */
  async clearAllPending(): Promise<number> {
    const marks = await digestDirs(this.#driver, PENDING);
    if (marks.length > 0) await deleteIfPresent(this.#driver.delete(PENDING));
    return marks.length;
  }

  /**
   * Removes a manifest's revision (with the tag-history entries in `tags` and its referrer entry
   * under `subject`) unless its revision link changed since `modTime` (re-pushed). Storage only:
   * the caller refreshes the listing index (catalog.refresh).
   */
  async removeRevision(name: string, digest: Digest, modTime: number, tags: string[], subject?: Digest): Promise<boolean> {
    const link = layout.revisionLink(name, digest);
    const now = await orUndefined(this.#driver.stat(link));
    if (!now || now.modTime.getTime() !== modTime) return false;
    await deleteIfPresent(this.#driver.delete(parentOf(link)));
    for (const tag of tags) await deleteIfPresent(this.#driver.delete(parentOf(layout.tagIndexLink(name, tag, digest))));
    if (subject) await deleteIfPresent(this.#driver.delete(parentOf(layout.referrerLink(name, subject, digest))));
    return true;
  }

  /** Deletes a blob's data (for every repository): only the GC, after its marks and rescan. */
  async removeBlob(digest: Digest): Promise<void> {
    await deleteIfPresent(this.#driver.delete(parentOf(layout.blobData(digest))));
  }

  /**
   * Removes a repository's layer link unless it was rewritten since `modTime` (the blob pushed
   * again); the data stays. For the review worker, under its pending mark.
   */
  async unlinkLayer(name: string, digest: Digest, modTime: number): Promise<boolean> {
    const path = layout.layerLink(name, digest);
    const info = await orUndefined(this.#driver.stat(path));
    if (!info || info.modTime.getTime() !== modTime) return false;
    await deleteIfPresent(this.#driver.delete(parentOf(path)));
    return true;
  }

  /** Removes a layer link unless it was rewritten since `modTime` (a new upload) or its blob is back. */
  async removeLayerLink(name: string, digest: Digest, modTime: number | undefined): Promise<boolean> {
    const path = layout.layerLink(name, digest);
    const info = await orUndefined(this.#driver.stat(path));
    if (!info || info.modTime.getTime() !== modTime) return false;
    if (await orUndefined(this.#driver.stat(layout.blobData(digest)))) return false;
    await deleteIfPresent(this.#driver.delete(parentOf(path)));
    return true;
  }
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
