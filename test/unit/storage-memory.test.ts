// The in-memory driver against the shared StorageDriver suite.
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { driverSuite } from '../suites/driver.suite.js';

driverSuite('inmemory', async () => ({ driver: new MemoryDriver(), cleanup: async () => {} }));
