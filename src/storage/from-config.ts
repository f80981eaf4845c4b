// Builds the configured storage driver: the only place that knows the concrete drivers.
import { resolve } from 'node:path';
import type { StorageDriver } from './driver.js';
import { FilesystemDriver } from './drivers/filesystem.js';
import { MemoryDriver } from './drivers/memory.js';

/** The part of the configuration read here; structural, so that storage does not import config. */
export interface StorageSelection {
  storage: { inmemory?: unknown; filesystem?: { rootdirectory?: string } | undefined };
}

export function driverFromConfig(config: StorageSelection): StorageDriver {
  if (config.storage.inmemory !== undefined) return new MemoryDriver();
  const root = config.storage.filesystem?.rootdirectory ?? './data';
  return new FilesystemDriver(resolve(root));
}
