// The online protocol of src/gc/sweep.ts: pushes that race the sweep either fail cleanly or
// keep their content; nothing acknowledged is lost. The races are forced deterministically by
// a fault-injecting driver that runs a "client" action at the exact moment the collector parks a blob.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from '../../src/gc/collector.js';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { layout } from '../../src/registry/layout.js';
import { RegistryError } from '../../src/errors/index.js';
import { withFaults, type FaultyDriver } from '../fakes/faulty-driver.js';
import { artifact, blob, imageManifest, indexManifest, randomBlob } from '../support/oci-fixtures.js';
import { d, hasBlob, later, putBlob, putImage, putManifest } from './support/seed.js';

/** Runs `action` (a racing client) right after the collector writes its first deletion mark. */
function onPark(faulty: FaultyDriver, action: () => Promise<void>): void {
  faulty.inject({ method: 'putContent', path: '/_berth/gc/pending/', after: true, times: 1, run: action });
}

describe('garbage collection while clients push', () => {
  it('refuses a manifest PUT whose blob the sweep has marked for deletion (the push fails, nothing is acknowledged)', async () => {
    const faulty = withFaults(new MemoryDriver());
    const driver = faulty.driver;
    const registry = new Registry(driver);
    const config = blob('{"race":1}');
    const layer = randomBlob(500);
    await putBlob(registry, 'r', config);
    await putBlob(registry, 'r', layer);
    let refused: unknown;
    onPark(faulty, async () => {
      await putManifest(registry, 'r', imageManifest(config, [layer]), 'v1').catch((err: unknown) => {
        refused = err;
      });
    });
    await collectGarbage(registry, { now: later });
    assert.ok(refused instanceof RegistryError && refused.code === 'MANIFEST_BLOB_UNKNOWN', String(refused));
    assert.equal(await registry.tags.resolve('r', 'v1'), undefined);
  });

  it('keeps a blob that a manifest written after the mark phase needs (a PUT whose re-check ran before the marks)', async () => {
    const faulty = withFaults(new MemoryDriver());
    const driver = faulty.driver;
    const registry = new Registry(driver);
    const config = blob('{"race":2}');
    const layer = randomBlob(700);
    await putBlob(registry, 'r', config);
    await putBlob(registry, 'r', layer);
    const m = imageManifest(config, [layer]);
    onPark(faulty, async () => {
      assert.equal(await hasBlob(registry, layer.digest), true, 'marked content is still served');
      // The PUT's checks ran before the marks; its writes land now, after them.
      await registry.blobs.putSmall(d(m.digest), m.body);
      await driver.putContent(layout.revisionLink('r', d(m.digest)), m.digest);
      await driver.putContent(layout.tagCurrentLink('r', 'v1'), m.digest);
    });
    const report = await collectGarbage(registry, { now: later });
    assert.deepEqual(report.blobs, []);
    assert.ok(report.restored.includes(layer.digest) && report.restored.includes(config.digest), JSON.stringify(report.restored));
    for (const b of [config, layer]) assert.equal(await hasBlob(registry, b.digest), true);
    assert.equal((await registry.manifests.get('r', { tag: 'v1' })).digest.value, m.digest);
  });

  it('keeps an untagged child that a newly pushed index needs', async () => {
    const faulty = withFaults(new MemoryDriver());
    const driver = faulty.driver;
    const registry = new Registry(driver);
    const config = blob('{"child":1}');
    const layer = randomBlob(100);
    const child = imageManifest(config, [layer]);
    await putImage(registry, 'r', config, [layer], child);
    const idx = indexManifest([child]);
    onPark(faulty, async () => {
      await registry.blobs.putSmall(d(idx.digest), idx.body);
      await driver.putContent(layout.revisionLink('r', d(idx.digest)), idx.digest);
      await driver.putContent(layout.tagCurrentLink('r', 'multi'), idx.digest);
    });
    const report = await collectGarbage(registry, { now: later, deleteUntagged: true });
    assert.deepEqual([report.manifests, report.blobs], [[], []]);
    assert.equal(await registry.manifests.exists('r', d(child.digest)), true);
    assert.equal(await hasBlob(registry, layer.digest), true);
  });

  it('refuses re-pushing a manifest the sweep is deleting, without moving the tag', async () => {
    const registry = new Registry(new MemoryDriver());
    const config = blob('{"heal":1}');
    const layer = randomBlob(100);
    const m = imageManifest(config, [layer]);
    await putImage(registry, 'r', config, [layer], m);
    await registry.maintenance.markPending(d(m.digest), Date.now() + 60_000);
    await assert.rejects(putManifest(registry, 'r', m, 'v1'), /manifest or blob unknown/);
    assert.equal(await registry.tags.resolve('r', 'v1'), undefined);
    // An expired mark (a crashed collector's) refuses nothing.
    await registry.maintenance.markPending(d(m.digest), Date.now() - 1);
    await putManifest(registry, 'r', m, 'v1');
    assert.equal((await registry.tags.resolve('r', 'v1'))?.value, m.digest);
  });

  it('keeps an untagged signature when its image is tagged again during the run', async () => {
    const faulty = withFaults(new MemoryDriver());
    const driver = faulty.driver;
    const registry = new Registry(driver);
    const config = blob('{"signed":2}');
    const layer = randomBlob(100);
    const image = imageManifest(config, [layer]);
    await putImage(registry, 'r', config, [layer], image);
    const sig = randomBlob(40);
    await putBlob(registry, 'r', sig);
    await putBlob(registry, 'r', blob('{}'));
    const signature = artifact(image, 'application/vnd.dev.cosign.simplesigning.v1+json', sig);
    await putManifest(registry, 'r', signature);
    onPark(faulty, async () => {
      await driver.putContent(layout.tagCurrentLink('r', 'again'), image.digest);
    });
    const report = await collectGarbage(registry, { now: later, deleteUntagged: true });
    assert.deepEqual([report.manifests, report.blobs], [[], []]);
    assert.equal(await registry.manifests.exists('r', d(signature.digest)), true);
  });
});
