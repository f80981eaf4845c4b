// The filesystem driver against the shared StorageDriver suite, in a fresh temporary root per test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { driverSuite } from '../suites/driver.suite.js';

driverSuite('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fs-driver-'));
  return {
    driver: new FilesystemDriver(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});
