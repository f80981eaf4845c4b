// Test plumbing for the GC: a registry per storage driver, so mark and sweep decisions can be
// checked on both drivers. The core pushes moved to test/support/seed.ts (re-exported here).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../../src/registry/registry.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { MemoryDriver } from '../../../src/storage/drivers/inmemory/index.js';
import { FilesystemDriver } from '../../../src/storage/drivers/filesystem/index.js';

export { d, hasBlob, later, putBlob, putImage, putManifest } from '../../support/seed.js';

export interface DriverCase {
  name: string;
  make(): Promise<{ registry: Registry; driver: StorageDriver; cleanup(): Promise<void> }>;
}

export const DRIVERS: DriverCase[] = [
  { name: 'inmemory', make: async () => {
    const driver = new MemoryDriver();
    return { registry: new Registry(driver), driver, cleanup: async () => {} };
  } },
  {
    name: 'filesystem',
    make: async () => {
      const root = await mkdtemp(join(tmpdir(), 'berth-gc-'));
      const driver = new FilesystemDriver(root);
      return { registry: new Registry(driver), driver, cleanup: () => rm(root, { recursive: true, force: true }) };
    },
  },
];
