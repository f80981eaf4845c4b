// `storage` as loaded: the driver as a union tagged by `driver`, built from the driver map,
// while Distribution's config.yml and REGISTRY_STORAGE_* input is read as before.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadConfigInput, ConfigError } from '../../src/config/load.js';
import { DRIVER_NAMES } from '../../src/storage/drivers/registry.js';
import { ConfigSchema } from '../../src/config/schema.js';

describe('storage configuration', () => {
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-storage-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const file = async (yaml: string) => {
    const path = join(dir, `c${n++}.yml`);
    await writeFile(path, yaml);
    return path;
  };
  const problems = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('every driver of the map has its section in the schema', () => {
    const storage = (ConfigSchema.properties.storage as { properties: Record<string, unknown> }).properties;
    for (const name of DRIVER_NAMES) assert.ok(storage[name], name);
  });

  it('no driver configured: filesystem with its defaults, tagged', () => {
    const { config } = loadConfig({ env: {} });
    assert.equal(config.storage.driver, 'filesystem');
    if (config.storage.driver !== 'filesystem') return;
    assert.deepEqual(config.storage.filesystem, { rootdirectory: './data', maxthreads: 100 });
    assert.equal(config.storage.s3, undefined);
  });

  it("reads Distribution's sections unchanged: inmemory in the file, s3 from the environment", async () => {
    const memory = loadConfig({ file: await file('version: 0.1\nstorage:\n  inmemory:\n') }).config;
    assert.equal(memory.storage.driver, 'inmemory');
    const s3 = loadConfig({ env: { REGISTRY_STORAGE_S3_BUCKET: 'images', REGISTRY_STORAGE_S3_REGION: 'eu-west-1' } }).config;
    assert.equal(s3.storage.driver, 's3');
    if (s3.storage.driver !== 's3') return;
    assert.equal(s3.storage.s3.bucket, 'images');
    assert.equal(s3.storage.s3.chunksize, 10 * 1024 * 1024);
    assert.equal(s3.storage.filesystem, undefined, 'the default filesystem is not added beside s3');
  });

  it('a `driver` key alone selects the driver with its defaults and required keys', async () => {
    assert.equal(loadConfig({ file: await file('storage:\n  driver: inmemory\n') }).config.storage.driver, 'inmemory');
    assert.match(problems(() => loadConfig({ env: { REGISTRY_STORAGE_DRIVER: 's3' } })).join('\n'), /storage\.s3\.bucket/);
  });

  it('refuses a `driver` naming another driver than the one configured, and two drivers', async () => {
    assert.match(problems(() => loadConfig({ env: { REGISTRY_STORAGE_DRIVER: 's3', REGISTRY_STORAGE_INMEMORY: '{}' } })).join('\n'),
      /storage\.driver: names s3 but the inmemory driver is configured/);
    assert.match(problems(() => loadConfig({ env: { REGISTRY_STORAGE_S3_BUCKET: 'images', REGISTRY_STORAGE_INMEMORY: '{}' } })).join('\n'),
      /more than one driver configured \(inmemory, s3\)/);
    assert.match(problems(() => loadConfig({ env: { REGISTRY_STORAGE_DRIVER: 'azure' } })).join('\n'), /storage\.driver/);
  });

  it('a driver Distribution has and Berth has not is refused at start', async () => {
    assert.match(problems(() => loadConfig({ env: { REGISTRY_STORAGE_GCS_BUCKET: 'b' } })).join('\n'),
      /storage\.gcs: this storage driver is not implemented yet/);
  });

  it('the configuration as printed loads again to the same storage', async () => {
    // `berth config print` prints the configuration as written (loadConfigInput), not the resolved settings.
    const { input } = loadConfigInput({ env: { REGISTRY_STORAGE_S3_BUCKET: 'images', REGISTRY_STORAGE_S3_REGION: 'eu-west-1' } });
    const again = loadConfig({ file: await file(JSON.stringify(input)) }).config;
    assert.deepEqual(again.storage, loadConfig({ env: { REGISTRY_STORAGE_S3_BUCKET: 'images', REGISTRY_STORAGE_S3_REGION: 'eu-west-1' } }).config.storage);
  });
});
