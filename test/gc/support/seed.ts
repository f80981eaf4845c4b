// Test plumbing for the GC: a registry per storage driver, so mark and sweep decisions can be
// checked on both drivers. The core pushes moved to test/support/seed.ts (re-exported here).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../../src/registry/registry.js';
import { MemoryDriver } from '../../../src/storage/drivers/memory.js';
import { FilesystemDriver } from '../../../src/storage/drivers/filesystem.js';

export { d, hasBlob, later, putBlob, putImage, putManifest } from '../../support/seed.js';

export interface DriverCase {
  name: string;
  make(): Promise<{ registry: Registry; cleanup(): Promise<void> }>;
}

export const DRIVERS: DriverCase[] = [
  { name: 'inmemory', make: async () => ({ registry: new Registry(new MemoryDriver()), cleanup: async () => {} }) },
  {
    name: 'filesystem',
    make: async () => {
      const root = await mkdtemp(join(tmpdir(), 'berth-gc-'));
      return { registry: new Registry(new FilesystemDriver(root)), cleanup: () => rm(root, { recursive: true, force: true }) };
    },
  },
];
