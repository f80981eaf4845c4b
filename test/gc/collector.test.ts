// Mark and sweep decisions of the collector, on the memory and filesystem drivers.
import type { StorageDriver } from '../../src/storage/driver.js';
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from '../../src/gc/collector.js';
import { layout } from '../../src/registry/layout.js';
import type { Registry } from '../../src/registry/registry.js';
import { artifact, blob, imageManifest, indexManifest, randomBlob } from '../support/oci-fixtures.js';
import { DRIVERS, d, hasBlob, later, putBlob, putImage, putManifest } from './support/seed.js';

for (const driver of DRIVERS) {
  describe(`garbage collection on ${driver.name}`, () => {
    let registry: Registry;
    let cleanup: () => Promise<void>;
    let storage: StorageDriver;
    beforeEach(async () => {
      ({ registry, driver: storage, cleanup } = await driver.make());
    });
    afterEach(() => cleanup());

    it('deletes a blob no manifest references and keeps every referenced one, counting bytes', async () => {
      const config = blob('{"a":1}');
      const layer = randomBlob(3000);
      const orphan = randomBlob(1234);
      const m = imageManifest(config, [layer]);
      await putImage(registry, 'team/app', config, [layer], m, 'v1');
      await putBlob(registry, 'team/app', orphan);

      const report = await collectGarbage(registry, { now: later });

      assert.deepEqual(report.blobs, [{ digest: orphan.digest, size: 1234 }]);
      assert.equal(report.bytes, 1234);
      assert.equal(await hasBlob(registry, orphan.digest), false);
      for (const kept of [config, layer]) assert.equal(await hasBlob(registry, kept.digest), true);
      assert.equal(await hasBlob(registry, m.digest), true, 'the manifest itself is a blob that stays');
      assert.deepEqual(report.layerLinks, [{ repository: 'team/app', digest: orphan.digest }]);
      assert.equal(await registry.blobs.isLinked('team/app', d(orphan.digest)), false);
      assert.equal((await registry.manifests.get('team/app', { tag: 'v1' })).digest.value, m.digest);
    });

    it('never touches content younger than the grace period', async () => {
      const orphan = randomBlob(100);
      await putBlob(registry, 'r', orphan);
      const report = await collectGarbage(registry, { graceMs: 3_600_000 });
      assert.deepEqual(report.blobs, []);
      assert.equal(await hasBlob(registry, orphan.digest), true);
    });

    it('keeps a blob referenced from another repository only', async () => {
      const config = blob('{"shared":true}');
      const layer = randomBlob(200);
      await putImage(registry, 'one', config, [layer], imageManifest(config, [layer]), 'v1');
      await putBlob(registry, 'two', layer);
      const report = await collectGarbage(registry, { now: later });
      assert.deepEqual(report.blobs, []);
      assert.equal(await hasBlob(registry, layer.digest), true);
    });

    it('keeps untagged manifests unless asked to delete them', async () => {
      const config = blob('{"u":1}');
      const layer = randomBlob(300);
      const m = imageManifest(config, [layer]);
      await putImage(registry, 'r', config, [layer], m);
      const kept = await collectGarbage(registry, { now: later });
      assert.deepEqual([kept.manifests, kept.blobs], [[], []]);

      const report = await collectGarbage(registry, { now: later, deleteUntagged: true });
      assert.deepEqual(report.manifests, [{ repository: 'r', digest: m.digest }]);
      assert.deepEqual(report.blobs.map((b) => b.digest).sort(), [config.digest, layer.digest, m.digest].sort());
      assert.equal(await registry.manifests.exists('r', d(m.digest)), false);
    });

    it('keeps the untagged children of a tagged index, and deletes an untagged index with its children', async () => {
      const c1 = blob('{"arch":"amd64"}');
      const c2 = blob('{"arch":"arm64"}');
      const l1 = randomBlob(100);
      const l2 = randomBlob(100);
      const m1 = imageManifest(c1, [l1]);
      const m2 = imageManifest(c2, [l2]);
      await putImage(registry, 'multi', c1, [l1], m1);
      await putImage(registry, 'multi', c2, [l2], m2);
      const idx = indexManifest([m1, m2]);
      await putManifest(registry, 'multi', idx, 'latest');

      const first = await collectGarbage(registry, { now: later, deleteUntagged: true });
      assert.deepEqual([first.manifests, first.blobs], [[], []]);

      await registry.manifests.delete('multi', { tag: 'latest' });
      const second = await collectGarbage(registry, { now: later, deleteUntagged: true });
      assert.deepEqual(second.manifests.map((m) => m.digest).sort(), [idx.digest, m1.digest, m2.digest].sort());
      assert.equal(second.blobs.length, 7);
    });

    it('keeps the referrers of a tagged subject and the subject of a tagged referrer; collects an untagged chain', async () => {
      const config = blob('{"s":1}');
      const layer = randomBlob(100);
      const subject = imageManifest(config, [layer]);
      await putImage(registry, 'signed', config, [layer], subject, 'v1');
      const sig = randomBlob(50);
      await putBlob(registry, 'signed', sig);
      await putBlob(registry, 'signed', blob('{}'));
      const signature = artifact(subject, 'application/vnd.dev.cosign.simplesigning.v1+json', sig);
      await putManifest(registry, 'signed', signature);

      const kept = await collectGarbage(registry, { now: later, deleteUntagged: true });
      assert.deepEqual([kept.manifests, kept.blobs], [[], []], 'a signature of a tagged image stays');
      assert.deepEqual((await registry.manifests.referrers('signed', d(subject.digest))).map((r) => r.digest), [signature.digest]);

      // Tag the signature and untag the image: the referrer now keeps its subject.
      await putManifest(registry, 'signed', signature, 'sig');
      await registry.manifests.delete('signed', { tag: 'v1' });
      const still = await collectGarbage(registry, { now: later, deleteUntagged: true });
      assert.deepEqual([still.manifests, still.blobs], [[], []]);

      await registry.manifests.delete('signed', { tag: 'sig' });
      const chain = await collectGarbage(registry, { now: later, deleteUntagged: true });
      assert.deepEqual(chain.manifests.map((m) => m.digest).sort(), [signature.digest, subject.digest].sort());
      assert.deepEqual(await registry.manifests.referrers('signed', d(subject.digest)), []);
    });

    it('removes layer links that point to nothing', async () => {
      const gone = randomBlob(10);
      await storage.putContent(layout.layerLink('r', d(gone.digest)), gone.digest);
      const report = await collectGarbage(registry, { now: later });
      assert.deepEqual(report.layerLinks, [{ repository: 'r', digest: gone.digest }]);
      assert.equal(await registry.blobs.isLinked('r', d(gone.digest)), false);
    });

    it('only reports in a dry run', async () => {
      const orphan = randomBlob(77);
      await putBlob(registry, 'r', orphan);
      const report = await collectGarbage(registry, { now: later, dryRun: true });
      assert.deepEqual(report.blobs, [{ digest: orphan.digest, size: 77 }]);
      assert.equal(await hasBlob(registry, orphan.digest), true);
    });

    it('clears the deletion marks an interrupted run left, so that pushes are not refused', async () => {
      const config = blob('{"q":1}');
      const layer = randomBlob(64);
      await putBlob(registry, 'r', config);
      await putBlob(registry, 'r', layer);
      await registry.maintenance.markPending(d(layer.digest), Date.now() + 600_000);
      await assert.rejects(putManifest(registry, 'r', imageManifest(config, [layer]), 'v1'), /manifest or blob unknown/);
      const report = await collectGarbage(registry, { graceMs: 3_600_000 });
      assert.equal(report.recovered, 1);
      await putManifest(registry, 'r', imageManifest(config, [layer]), 'v1');
    });
  });
}
