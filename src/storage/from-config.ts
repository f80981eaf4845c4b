// Builds the configured storage driver: the only place that knows the concrete drivers.
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { StorageDriver } from './driver.js';
import { FilesystemDriver } from './drivers/filesystem.js';
import { MemoryDriver } from './drivers/memory.js';

export function driverFromConfig(config: Config): StorageDriver {
  if (config.storage.inmemory !== undefined) return new MemoryDriver();
  const root = config.storage.filesystem?.rootdirectory ?? './data';
  return new FilesystemDriver(resolve(root));
}
