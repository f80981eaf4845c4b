// The metrics decorator must not hide a driver's optional capabilities: the GC lock needs
// createExclusive, and the redirects `serve` configures must stay visible around it
// (storage-wrappers.test.ts checks every wrapper in every order).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { canCreateExclusive } from '../../src/storage/driver.js';
import { InstrumentedDriver } from '../../src/metrics/instrumented-driver.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { driverFromConfig } from '../../src/storage/from-config.js';
import { loadConfig } from '../../src/config/load.js';
import { redirectsOf } from '../../src/storage/driver.js';
import { CheckedDriver } from '../../src/storage/checked-driver.js';
import { Registry } from '../../src/registry/registry.js';

it('offers createExclusive exactly when the inner driver has it, and times it', async () => {
  const metrics = createMetrics();
  const timed = new InstrumentedDriver(new MemoryDriver(), metrics);
  assert.ok(canCreateExclusive(timed));
  // (canCreateExclusive narrowed `timed` above.)
  assert.equal(await timed.createExclusive('/lock', 'a'), true);
  assert.equal(await timed.createExclusive('/lock', 'b'), false);
  assert.equal((await timed.getContent('/lock')).toString(), 'a');
  assert.match(await metrics.registry.metrics(), /registry_storage_action_seconds_count\{driver="inmemory",action="CreateExclusive"\} 2/);
  const plain: StorageDriver = { ...({} as StorageDriver), name: 'plain' };
  assert.ok(!canCreateExclusive(new InstrumentedDriver(plain, metrics)));
});

it('keeps redirect capabilities visible when driverFromConfig decorates the concrete driver', async () => {
  const { config } = loadConfig({ env: { REGISTRY_STORAGE_INMEMORY: '{}' } });
  assert.equal(config.storage.driver, 'inmemory');
  config.middleware = { storage: [{ name: 'redirect', options: { baseurl: 'https://cdn.example' } }] } as typeof config.middleware;
  let decorated = 0;
  const driver = await driverFromConfig(config, (d) => { decorated++; return new InstrumentedDriver(d, createMetrics()); });
  assert.equal(decorated, 1);
  assert.ok(redirectsOf(driver), 'the redirect middleware is still found');
  // serve once wrapped this driver in another CheckedDriver for the listing index, and every
  // redirect silently became a direct download (found by the CloudFront client tests).
  assert.ok(redirectsOf(new CheckedDriver(driver)), 'still found through a second checking wrapper');
  assert.ok(new Registry(new CheckedDriver(driver)).blobs.redirecting, 'and through the registry core');
});
