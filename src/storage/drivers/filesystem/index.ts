// The filesystem driver's entry point for the driver map (../registry.ts): the directory driver
// under Distribution's `maxthreads` cap.
import { resolve } from 'node:path';
import type { Static } from '@sinclair/typebox';
import { ConcurrencyLimit } from '../../concurrency-limit.js';
import type { StorageDriver } from '../../driver.js';
import { FilesystemDriver } from './filesystem-driver.js';
import type { FilesystemSchema } from './schema.js';

export { FilesystemDriver };

export function create(options: Static<typeof FilesystemSchema>): StorageDriver {
  return new ConcurrencyLimit(new FilesystemDriver(resolve(options.rootdirectory)), options.maxthreads);
}
