// The review of uploaded blobs (issue 20): a blob a push uploaded or mounted queues a review row
// (reason `upload`), so content no manifest comes to name is collected after its grace instead of
// waiting for the reconciler; a manifest naming it first wins, a fresh upload of the same blob
// elsewhere keeps its data, and a PUT racing the review is refused rather than acknowledged over
// a deleted blob. On SQLite and a real PostgreSQL.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { MetaListingIndex } from '../../src/meta/listing-index.js';
import type { MetaDatabase } from '../../src/meta/database.js';
import { pendingReviews, uploadReviews } from '../../src/meta/review-queue.js';
import { reviewOnce, type ReviewOptions } from '../../src/gc/review-worker.js';
import { isRegistryError } from '../../src/errors/index.js';
import { startReviewWorker } from '../../src/gc/review-schedule.js';
import { loadConfigInput, resolveConfig } from '../../src/config/load.js';
import type { FastifyBaseLogger } from 'fastify';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { d, hasBlob, putBlob, putImage, putManifest } from '../support/seed.js';

const quiet = { info: () => {}, warn: () => {} };
const GRACE = 3_600_000;
const options: ReviewOptions = { graceMs: GRACE, untagged: 'delete' };

/** A pass `ahead` after now (one grace by default): what was queued so far with that wait is due. */
async function pass(meta: MetaDatabase, registry: Registry, ahead = GRACE, uploadGraceMs = GRACE) {
  const at = Date.now();
  await new Promise((r) => setTimeout(r, 5));
  return reviewOnce(meta, registry, { ...options, uploadGraceMs, now: () => at + ahead });
}

/** `beforeDelete` runs once, before the first delete under a repository's `_layers/` (the review's unlink). */
function hooked(driver: StorageDriver, hook: { beforeDelete?: () => Promise<void> }): StorageDriver {
  return new Proxy(driver, {
    get(t, prop) {
      const v = Reflect.get(t, prop, t) as unknown;
      if (prop === 'delete') {
        return async (path: string, ...rest: unknown[]) => {
          const run = hook.beforeDelete;
          if (run && path.includes('/_layers/')) {
            hook.beforeDelete = undefined;
            await run();
          }
          return (v as (...a: unknown[]) => unknown).call(t, path, ...rest);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

function setup(meta: MetaDatabase, uploadGrace = GRACE, hook: { beforeDelete?: () => Promise<void> } = {}) {
  const driver = hooked(new MemoryDriver(), hook);
  const index = new MetaListingIndex(meta, new StorageListing(driver), { log: quiet });
  return new Registry(driver, { index, uploadReview: uploadReviews(meta.db, uploadGrace, GRACE) });
}

async function reasons(meta: MetaDatabase): Promise<string[]> {
  const rows = await meta.db.selectFrom('berth_gc_review').select(['kind', 'repository', 'digest', 'reason']).orderBy('repository').execute();
  return rows.map((r) => `${r.kind} ${r.repository} ${r.digest} ${r.reason}`);
}

forEachMetaDatabase('review of uploaded blobs', (backend) => {
  const config = blob('{"os":"upload"}');

  it('an uploaded blob no manifest names is collected after its grace, link and data', async () => {
    const meta = await backend.open();
    try {
      const registry = setup(meta);
      const orphan = blob('uploaded, never named');
      await putBlob(registry, 'team/app', orphan);
      assert.deepEqual(await reasons(meta), [`blob team/app ${orphan.digest} upload`], 'the upload queued its review');
      assert.deepEqual(await reviewOnce(meta, registry, { ...options, now: Date.now }), { reviewed: 0, manifests: [], blobs: [], kept: 0 }, 'not before its grace');
      const r = await pass(meta, registry);
      assert.deepEqual(r.blobs, [orphan.digest]);
      assert.equal(await hasBlob(registry, orphan.digest), false, 'the data is gone');
      assert.equal(await registry.blobs.isLinked('team/app', d(orphan.digest)), false, 'and the repository\'s link');
      assert.equal(await pendingReviews(meta), 0);
    } finally {
      await meta.close();
    }
  });

  it('a manifest naming the uploaded blobs before their review keeps them', async () => {
    const meta = await backend.open();
    try {
      const registry = setup(meta);
      const layer = blob('named in time');
      const m = imageManifest(config, [layer]);
      await putImage(registry, 'team/app', config, [layer], m, 'v1');
      const r = await pass(meta, registry);
      assert.deepEqual(r.blobs, []);
      assert.deepEqual(r.manifests, []);
      assert.equal(r.kept, 3, 'two blob rows and the new revision\'s');
      for (const b of [config, layer]) {
        assert.equal(await hasBlob(registry, b.digest), true);
        assert.equal(await registry.blobs.isLinked('team/app', d(b.digest)), true);
      }
      assert.equal(await pendingReviews(meta), 0, 'the rows are done with');
      const pulled = await registry.manifests.get('team/app', { tag: 'v1' });
      assert.equal(pulled.digest.value, m.digest);
    } finally {
      await meta.close();
    }
  });

  it('a mount no manifest names loses its link; the data its source repository references stays', async () => {
    const meta = await backend.open();
    try {
      const registry = setup(meta);
      const layer = blob('mounted, never named');
      await putImage(registry, 'team/source', config, [layer], imageManifest(config, [layer]), 'v1');
      await registry.blobs.link('team/copy', d(layer.digest), true);
      const r = await pass(meta, registry);
      assert.deepEqual(r.blobs, [], 'no data deleted');
      assert.equal(await registry.blobs.isLinked('team/copy', d(layer.digest)), false, 'the mount\'s link went');
      assert.equal(await registry.blobs.isLinked('team/source', d(layer.digest)), true);
      assert.equal(await hasBlob(registry, layer.digest), true);
    } finally {
      await meta.close();
    }
  });

  it('a fresh upload of the same blob in another repository keeps the data for its push', async () => {
    const meta = await backend.open();
    try {
      const registry = setup(meta);
      const layer = blob('uploaded twice');
      await putBlob(registry, 'team/a', layer);
      const firstDue = Date.now();
      await new Promise((r) => setTimeout(r, 20));
      await putBlob(registry, 'team/b', layer);
      // Only team/a's row is due: its link goes, the data waits for team/b's push.
      await new Promise((r) => setTimeout(r, 5));
      const r = await reviewOnce(meta, registry, { ...options, now: () => firstDue + GRACE + 10 });
      assert.equal(r.reviewed, 1);
      assert.deepEqual(r.blobs, []);
      assert.equal(await registry.blobs.isLinked('team/a', d(layer.digest)), false);
      assert.equal(await hasBlob(registry, layer.digest), true);
      await putImage(registry, 'team/b', config, [layer], imageManifest(config, [layer]), 'v1');
      await pass(meta, registry);
      assert.equal(await hasBlob(registry, layer.digest), true, 'team/b\'s manifest names it');
      assert.equal(await registry.blobs.isLinked('team/b', d(layer.digest)), true);
    } finally {
      await meta.close();
    }
  });

  it('gc.review.upload: an uploaded blob waits its own grace', async () => {
    const meta = await backend.open();
    try {
      const registry = setup(meta, 3 * GRACE);
      const orphan = blob('waits three graces');
      await putBlob(registry, 'team/app', orphan);
      assert.equal((await pass(meta, registry, 2 * GRACE, 3 * GRACE)).reviewed, 0, 'not due after two graces');
      assert.equal(await hasBlob(registry, orphan.digest), true);
      assert.deepEqual((await pass(meta, registry, 3 * GRACE, 3 * GRACE)).blobs, [orphan.digest]);
    } finally {
      await meta.close();
    }
  });

  it('a blob released elsewhere keeps its data while an upload of it waits its longer grace', async () => {
    const meta = await backend.open();
    try {
      const registry = setup(meta, 3 * GRACE);
      const layer = blob('released there, uploaded here');
      const m = imageManifest(config, [layer]);
      await putImage(registry, 'team/old', config, [layer], m, 'v1');
      await registry.manifests.delete('team/old', { digest: d(m.digest) });
      await putBlob(registry, 'team/new', layer);
      // team/old's rows are due (one grace); team/new's upload row is not (three).
      const r = await pass(meta, registry, GRACE, 3 * GRACE);
      assert.ok(!r.blobs.includes(layer.digest), `the layer's data stays: ${r.blobs.join(' ')}`);
      assert.equal(await hasBlob(registry, layer.digest), true);
      assert.equal(await registry.blobs.isLinked('team/old', d(layer.digest)), false, 'team/old released it: its link went');
      await putImage(registry, 'team/new', config, [layer], imageManifest(config, [layer], { annotations: { here: 'yes' } }), 'v1');
      assert.equal((await registry.manifests.get('team/new', { tag: 'v1' })).parsed?.mediaType, m.mediaType, 'the push that uploaded it succeeds');
    } finally {
      await meta.close();
    }
  });

  it('a manifest pushed by digest that no tag, index or subject names is collected; a tagged one stays', async () => {
    const meta = await backend.open();
    try {
      const registry = setup(meta);
      const loose = blob('layer of a manifest never tagged');
      const kept = blob('layer of a tagged manifest');
      const never = imageManifest(config, [loose]);
      const tagged = imageManifest(config, [kept]);
      await putImage(registry, 'team/app', config, [loose], never);
      await putImage(registry, 'team/app', config, [kept], tagged, 'v1');
      assert.deepEqual((await pass(meta, registry)).manifests, [{ repository: 'team/app', digest: never.digest }]);
      assert.equal(await registry.manifests.exists('team/app', d(tagged.digest)), true);
      // Its release queued its blobs: the next pass takes what only it named.
      const next = await pass(meta, registry);
      assert.deepEqual(next.blobs.sort(), [loose.digest, never.digest].sort());
      for (const b of [config, kept]) assert.equal(await hasBlob(registry, b.digest), true);
      assert.equal((await registry.manifests.get('team/app', { tag: 'v1' })).digest.value, tagged.digest);
    } finally {
      await meta.close();
    }
  });

  it('the worker of berth serve reviews nothing until the listing index was first built', async () => {
    const meta = await backend.open();
    const { input } = loadConfigInput({ env: { REGISTRY_GC_REVIEW_GRACE: '0s', REGISTRY_GC_REVIEW_UPLOAD: '0s', REGISTRY_GC_REVIEW_INTERVAL: '50ms' } });
    const logger = { info: () => {}, warn: () => {} } as unknown as FastifyBaseLogger;
    const registry = setup(meta, 0);
    const worker = startReviewWorker(meta, registry, resolveConfig(input), logger);
    try {
      const orphan = blob('uploaded before the index was built');
      await putBlob(registry, 'team/app', orphan);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await hasBlob(registry, orphan.digest), true, 'the index may not know the revision naming it yet');
      await meta.db.insertInto('berth_meta').values({ key: 'listing.built', value: new Date().toISOString() }).execute();
      for (let i = 0; await hasBlob(registry, orphan.digest); i++) {
        assert.ok(i < 100, 'the worker collected the blob once the index was built');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      worker.stop();
      await meta.close();
    }
  });

  it('a PUT naming the blob while the review removes it is refused, never acknowledged over a deleted blob', async () => {
    const meta = await backend.open();
    try {
      const hook: { beforeDelete?: () => Promise<void> } = {};
      const registry = setup(meta, GRACE, hook);
      const layer = blob('contested upload');
      await putBlob(registry, 'team/app', config);
      await putBlob(registry, 'team/app', layer);
      const m = imageManifest(config, [layer]);
      await putManifest(registry, 'team/app', imageManifest(config, []), 'keeps-config');
      let refused: unknown;
      // The PUT arrives after the review's re-check, as it removes the link (the mark is set).
      hook.beforeDelete = async () => {
        refused = await putManifest(registry, 'team/app', m, 'v1').then(() => 'acknowledged', (err: unknown) => err);
      };
      const r = await pass(meta, registry);
      assert.ok(isRegistryError(refused) && refused.code === 'MANIFEST_BLOB_UNKNOWN', `the racing PUT: ${String(refused)}`);
      assert.deepEqual(r.blobs, [layer.digest]);
      assert.equal(await hasBlob(registry, layer.digest), false);
      await assert.rejects(registry.manifests.get('team/app', { tag: 'v1' }), (err: unknown) => isRegistryError(err) && err.code === 'MANIFEST_UNKNOWN');
      assert.equal(await hasBlob(registry, config.digest), true, 'the named config stays');
      // The refused PUT stored its revision before it saw the mark: that revision's own row collects it.
      assert.equal(await registry.manifests.exists('team/app', d(m.digest)), true);
      assert.deepEqual((await pass(meta, registry)).manifests, [{ repository: 'team/app', digest: m.digest }]);
      assert.equal(await registry.manifests.exists('team/app', d(m.digest)), false);
    } finally {
      await meta.close();
    }
  });
});
