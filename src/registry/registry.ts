// The registry core assembled over one storage driver: no HTTP, no globals, so several
// registries can live in one process (tests do).
import type { StorageDriver } from '../storage/driver.js';
import { CheckedDriver } from '../storage/checked-driver.js';
import { BlobStore } from './blob-store.js';
import { Catalog } from './catalog.js';
import { ManifestStore } from './manifest-store.js';
import { ReferrerIndex } from './referrer-index.js';
import { TagStore } from './tag-store.js';
import { UploadService } from './upload-service.js';
import type { TagGuard } from './tag-guard.js';
import type { ListingIndex } from './listing-index.js';
import { StorageListing } from './storage-listing.js';
import type { ManifestUrlPolicy } from './manifest-urls.js';

export interface RegistryOptions {
  tagGuard?: TagGuard;
  /** Where listings come from; without one, storage is walked (Distribution's way). */
  index?: ListingIndex;
  /** Layer URLs pushes may name (`validation.manifests.urls`); Distribution's default (none) without. */
  manifestUrls?: ManifestUrlPolicy;
}

export class Registry {
  readonly driver: StorageDriver;
  readonly blobs: BlobStore;
  readonly uploads: UploadService;
  readonly tags: TagStore;
  readonly referrers: ReferrerIndex;
  readonly manifests: ManifestStore;
  readonly catalog: Catalog;

  constructor(driver: StorageDriver, options: RegistryOptions = {}) {
    this.driver = driver instanceof CheckedDriver ? driver : new CheckedDriver(driver);
    const index = options.index ?? new StorageListing(this.driver);
    this.blobs = new BlobStore(this.driver);
    this.uploads = new UploadService(this.driver, this.blobs);
    this.tags = new TagStore(this.driver, index);
    this.referrers = new ReferrerIndex(this.driver, index);
    this.manifests = new ManifestStore(this.driver, this.blobs, this.tags, this.referrers, options.tagGuard, index, options.manifestUrls);
    this.catalog = new Catalog(this.driver, index);
  }
}
