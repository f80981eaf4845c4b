import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { Registry } from '../../src/registry/registry.js';
import { purgeStaleUploads } from '../../src/registry/upload-purge.js';
import { layout } from '../../src/registry/layout.js';

/** The driver under each registry these tests make (the core does not expose it). */
const drivers = new WeakMap<Registry, MemoryDriver>();
function registryOver(driver = new MemoryDriver()): Registry {
  const registry = new Registry(driver);
  drivers.set(registry, driver);
  return registry;
}

async function startedAt(registry: Registry, name: string, id: string, when: Date): Promise<void> {
  await drivers.get(registry)!.putContent(layout.uploadStartedAt(name, id), when.toISOString());
}

describe('upload purging', () => {
  it('removes sessions older than the cutoff in every repository, including ones with no manifest yet', async () => {
    const registry = registryOver();
    const old = await registry.uploads.start('team/first-push');
    await registry.uploads.append('team/first-push', old, Readable.from([Buffer.from('partial')]));
    await startedAt(registry, 'team/first-push', old, new Date('2020-01-01T00:00:00Z'));
    const fresh = await registry.uploads.start('team/first-push');
    const otherOld = await registry.uploads.start('other');
    await startedAt(registry, 'other', otherOld, new Date('2020-01-01T00:00:00Z'));

    const purged = await purgeStaleUploads(registry, new Date(Date.now() - 3_600_000));

    assert.deepEqual(purged.map((p) => `${p.repository}/${p.id}`).sort(), [`other/${otherOld}`, `team/first-push/${old}`].sort());
    await assert.rejects(registry.uploads.size('team/first-push', old), /blob upload unknown/);
    await assert.rejects(registry.uploads.size('other', otherOld), /blob upload unknown/);
    assert.equal(await registry.uploads.size('team/first-push', fresh), 0);
  });

  it('only reports in dry-run mode', async () => {
    const registry = registryOver();
    const id = await registry.uploads.start('repo');
    await startedAt(registry, 'repo', id, new Date('2020-01-01T00:00:00Z'));
    const purged = await purgeStaleUploads(registry, new Date(), true);
    assert.deepEqual(purged, [{ repository: 'repo', id }]);
    assert.equal(await registry.uploads.size('repo', id), 0);
  });
});
