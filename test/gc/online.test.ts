// The online protocol of src/gc/sweep.ts: pushes that race the sweep either fail cleanly or
// keep their content; nothing acknowledged is lost. The races are forced deterministically by
// a driver that runs a "client" action at the exact moment the collector parks a blob.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from '../../src/gc/collector.js';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/memory.js';
import { layout } from '../../src/registry/layout.js';
import { RegistryError } from '../../src/errors/index.js';
import { blob, imageManifest, indexManifest, randomBlob } from '../helpers/oci-fixtures.js';
import { d, hasBlob, later, putBlob, putImage, putManifest } from './support/seed.js';

/** A memory driver that calls `onPark` right after the collector moves a blob aside. */
class HookedDriver extends MemoryDriver {
  onPark: ((source: string) => Promise<void>) | undefined;

  override async move(source: string, dest: string): Promise<void> {
    await super.move(source, dest);
    if (dest.includes('/_berth/gc/quarantine/') && this.onPark) {
      const hook = this.onPark;
      this.onPark = undefined;
      await hook(source);
    }
  }
}

describe('garbage collection while clients push', () => {
  it('refuses a manifest PUT whose blob the sweep has set aside (the push fails, nothing is acknowledged)', async () => {
    const driver = new HookedDriver();
    const registry = new Registry(driver);
    const config = blob('{"race":1}');
    const layer = randomBlob(500);
    await putBlob(registry, 'r', config);
    await putBlob(registry, 'r', layer);
    let refused: unknown;
    driver.onPark = async () => {
      await putManifest(registry, 'r', imageManifest(config, [layer]), 'v1').catch((err: unknown) => {
        refused = err;
      });
    };
    await collectGarbage(registry, { now: later });
    assert.ok(refused instanceof RegistryError && refused.code === 'MANIFEST_BLOB_UNKNOWN', String(refused));
    assert.equal(await registry.tags.resolve('r', 'v1'), undefined);
  });

  it('puts a blob back when a manifest needing it was written after the mark (a PUT that checked before the park)', async () => {
    const driver = new HookedDriver();
    const registry = new Registry(driver);
    const config = blob('{"race":2}');
    const layer = randomBlob(700);
    await putBlob(registry, 'r', config);
    await putBlob(registry, 'r', layer);
    const m = imageManifest(config, [layer]);
    driver.onPark = async () => {
      // The PUT's checks ran before the park; its writes land now, after it.
      await registry.blobs.putSmall(d(m.digest), m.body);
      await driver.putContent(layout.revisionLink('r', d(m.digest)), m.digest);
      await driver.putContent(layout.tagCurrentLink('r', 'v1'), m.digest);
    };
    const report = await collectGarbage(registry, { now: later });
    assert.deepEqual(report.blobs, []);
    assert.ok(report.restored.includes(layer.digest) && report.restored.includes(config.digest), JSON.stringify(report.restored));
    for (const b of [config, layer]) assert.equal(await hasBlob(registry, b.digest), true);
    assert.equal((await registry.manifests.get('r', { tag: 'v1' })).digest.value, m.digest);
  });

  it('keeps an untagged child that a newly pushed index needs', async () => {
    const driver = new HookedDriver();
    const registry = new Registry(driver);
    const config = blob('{"child":1}');
    const layer = randomBlob(100);
    const child = imageManifest(config, [layer]);
    await putImage(registry, 'r', config, [layer], child);
    const idx = indexManifest([child]);
    driver.onPark = async () => {
      await registry.blobs.putSmall(d(idx.digest), idx.body);
      await driver.putContent(layout.revisionLink('r', d(idx.digest)), idx.digest);
      await driver.putContent(layout.tagCurrentLink('r', 'multi'), idx.digest);
    };
    const report = await collectGarbage(registry, { now: later, deleteUntagged: true });
    assert.deepEqual([report.manifests, report.blobs], [[], []]);
    assert.equal(await registry.manifests.exists('r', d(child.digest)), true);
    assert.equal(await hasBlob(registry, layer.digest), true);
  });

  it('heals a tag pushed onto a manifest the sweep removed after the rescan', async () => {
    const registry = new Registry(new MemoryDriver());
    const config = blob('{"heal":1}');
    const layer = randomBlob(100);
    const m = imageManifest(config, [layer]);
    await putImage(registry, 'r', config, [layer], m);
    // As if the collector had removed the untagged manifest's revision link and blob just now.
    await registry.driver.delete(layout.revisionLink('r', d(m.digest)).replace(/\/link$/, ''));
    await registry.driver.delete(layout.blobData(d(m.digest)));
    await putManifest(registry, 'r', m, 'v1');
    assert.equal((await registry.manifests.get('r', { tag: 'v1' })).content.equals(m.body), true);
  });
});
