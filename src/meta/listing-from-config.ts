// The listing index a configuration asks for: the metadata database's (meta.index.enabled, the
// default) or none, in which case the core walks storage as Distribution does.
import type { Config } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import type { StorageDriver } from '../storage/driver.js';
import { StorageListing } from '../registry/storage-listing.js';
import { openMetaDatabase, type MetaDatabase } from './database.js';
import { metaOptionsFromConfig } from './from-config.js';
import { MetaListingIndex, type ListingLog } from './listing-index.js';
import { startListing, type ListingService } from './listing-sync.js';

/** For `berth serve`: builds the index on first start, repairs it at start and periodically. */
export async function startListingFromConfig(config: Config, meta: MetaDatabase, driver: StorageDriver, log: ListingLog): Promise<ListingService | undefined> {
  if (!config.meta.index.enabled) return undefined;
  const options = metaOptionsFromConfig(config);
  if ('sqlite' in options && options.sqlite.path === ':memory:' && config.storage.s3) {
    log.warn({}, 'listing index: in memory, so rebuilt from the bucket at every start; set meta.sqlite.path or meta.postgres.url to keep it');
  }
  return startListing(meta, new StorageListing(driver), { log, resyncIntervalMs: parseDuration(config.meta.index.resyncinterval) });
}

/**
 * For one-shot commands that change storage (`berth gc`, `berth retention`): the index their
 * changes must reach, in its own connection; undefined when listings walk storage.
 */
export async function openListingForCommand(config: Config, driver: StorageDriver): Promise<{ index: MetaListingIndex; close(): Promise<void> } | undefined> {
  if (!config.meta.index.enabled) return undefined;
  const meta = await openMetaDatabase(metaOptionsFromConfig(config));
  const log: ListingLog = { info: () => {}, warn: (obj, msg) => process.stderr.write(`berth: warning: ${msg}\n`) };
  return { index: new MetaListingIndex(meta, new StorageListing(driver), { log }), close: () => meta.close() };
}
