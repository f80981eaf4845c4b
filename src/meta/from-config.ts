// Where the metadata database lives for a given configuration: PostgreSQL when `meta.postgres.url`
// is set, else an SQLite file beside the filesystem storage (outside Distribution's docker/ tree,
// which Distribution ignores), else in memory for the in-memory driver.
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { MetaDatabaseOptions } from './database.js';

export function metaOptionsFromConfig(config: Config): MetaDatabaseOptions {
  const meta = config.meta;
  if (meta.postgres?.url) return { postgres: { url: meta.postgres.url } };
  if (meta.sqlite?.path) return { sqlite: { path: meta.sqlite.path } };
  if (config.storage.filesystem) return { sqlite: { path: join(config.storage.filesystem.rootdirectory, 'berth', 'meta.sqlite') } };
  return { sqlite: { path: ':memory:' } };
}

/** Whether the configured features keep state in the metadata database (auth, notification queues, the listing index, pull-through cache, replication jobs). */
export function metadataNeeded(config: Config): boolean {
  return config.auth !== undefined || (config.notifications.endpoints ?? []).length > 0 || config.meta.index.enabled || config.proxy.upstreams.length > 0
    || config.replication.policies.length > 0;
}
