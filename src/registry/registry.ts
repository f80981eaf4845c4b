// The registry core assembled over one storage driver: no HTTP, no globals, so several
// registries can live in one process (tests do). A facade of small services and nothing else:
// the driver, the layout and the link files stay inside src/registry/, so every write goes
// through the services that keep the listing index in step (features that need storage facts
// use `maintenance`; a blob's redirect and the chunk minimum are asked of `blobs`/`uploads`).
import type { StorageDriver } from '../storage/driver.js';
import { CheckedDriver } from '../storage/checked-driver.js';
import { BlobStore, type UploadReview } from './blob-store.js';
import { Catalog } from './catalog.js';
import { ManifestStore } from './manifest-store.js';
import { ReferrerIndex } from './referrer-index.js';
import { TagStore } from './tag-store.js';
import { UploadService } from './upload-service.js';
import type { TagGuard } from './tag-guard.js';
import type { ListingIndex } from './listing-index.js';
import { StorageListing } from './storage-listing.js';
import type { ManifestUrlPolicy } from './manifest-urls.js';
import { Maintenance } from './maintenance.js';

export interface RegistryOptions {
  tagGuard?: TagGuard;
  /** Where listings come from; without one, storage is walked (Distribution's way). */
  index?: ListingIndex;
  /** Layer URLs pushes may name (`validation.manifests.urls`); Distribution's default (none) without. */
  manifestUrls?: ManifestUrlPolicy;
  /** Queues the review of blobs pushes link (the metadata database's review queue); none without. */
  uploadReview?: UploadReview;
}

export class Registry {
  readonly blobs: BlobStore;
  readonly uploads: UploadService;
  readonly tags: TagStore;
  readonly referrers: ReferrerIndex;
  readonly manifests: ManifestStore;
  readonly catalog: Catalog;
  /** GC, eviction, retention and the metrics scan: storage facts and conditional removals. */
  readonly maintenance: Maintenance;

  constructor(driver: StorageDriver, options: RegistryOptions = {}) {
    const checked = driver instanceof CheckedDriver ? driver : new CheckedDriver(driver);
    const index = options.index ?? new StorageListing(checked);
    this.blobs = new BlobStore(checked, options.uploadReview);
    this.uploads = new UploadService(checked, this.blobs);
    this.tags = new TagStore(checked, index);
    this.referrers = new ReferrerIndex(checked, index);
    this.manifests = new ManifestStore(checked, this.blobs, this.tags, this.referrers, options.tagGuard, index, options.manifestUrls, options.uploadReview);
    this.catalog = new Catalog(checked, index);
    this.maintenance = new Maintenance(checked);
  }
}
