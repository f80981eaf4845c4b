// The review-queue collector on SQLite and a real PostgreSQL: an untagged image is gone from
// storage after its grace with no storage walk (a counting driver sees no list of repositories/
// or blobs/); a re-tag or a push that re-references content before the review wins; the children
// of a kept index stay; referrers go with their subject; concurrent workers never review the
// same row twice.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { MetaListingIndex } from '../../src/meta/listing-index.js';
import type { MetaDatabase } from '../../src/meta/database.js';
import { pendingReviews } from '../../src/meta/review-queue.js';
import { layout } from '../../src/registry/layout.js';
import { reviewOnce, type ReviewOptions } from '../../src/gc/review-worker.js';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { InventoryBook } from '../../src/inventory/book.js';
import type { ArtifactFacts } from '../../src/inventory/facts.js';
import { artifact, blob, EMPTY_CONFIG, imageManifest, indexManifest } from '../support/oci-fixtures.js';
import { d, hasBlob, putBlob, putImage, putManifest } from '../support/seed.js';

const quiet = { info: () => {}, warn: () => {} };
const GRACE = 3_600_000;
const options: ReviewOptions = { graceMs: GRACE, untagged: 'delete' };

/** A pass one grace after now: what was queued so far is due, what the pass itself queues is not. */
async function pass(meta: MetaDatabase, registry: Registry, extra: Partial<ReviewOptions> = {}) {
  const at = Date.now();
  await new Promise((r) => setTimeout(r, 5));
  return reviewOnce(meta, registry, { ...options, now: () => at + GRACE, ...extra });
}

/** Counts list() calls per path, so a test can prove no walk happened. */
function counting(driver: StorageDriver): { driver: StorageDriver; lists: string[] } {
  const lists: string[] = [];
  const wrapped = new Proxy(driver, {
    get(t, prop) {
      const v = Reflect.get(t, prop, t) as unknown;
      if (prop === 'list') return (path: string, ...rest: unknown[]) => { lists.push(path); return (v as (...a: unknown[]) => unknown).call(t, path, ...rest); };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return { driver: wrapped, lists };
}

function setup(meta: MetaDatabase) {
  const { driver, lists } = counting(new MemoryDriver());
  const index = new MetaListingIndex(meta, new StorageListing(driver), { log: quiet });
  return { registry: new Registry(driver, { index }), lists };
}

forEachMetaDatabase('review-queue collector', (backend) => {
  const config = blob('{"os":"linux"}');
  const shared = blob('shared layer');

  it('collects a retagged image after its grace, blobs included, without walking storage', async () => {
    const meta = await backend.open();
    try {
      const { registry, lists } = setup(meta);
      const oldLayer = blob('old layer');
      const newLayer = blob('new layer');
      const old = imageManifest(config, [shared, oldLayer]);
      const current = imageManifest(config, [shared, newLayer]);
      await putImage(registry, 'team/app', config, [shared, oldLayer], old, 'v1');
      await putImage(registry, 'team/app', config, [shared, newLayer], current, 'v1');
      assert.deepEqual(await reviewOnce(meta, registry, { ...options, now: Date.now }), { reviewed: 0, manifests: [], blobs: [], kept: 0 }, 'nothing is due before its grace');
      // The read API's inventory lists both until the review deletes the old one.
      const book = new InventoryBook(meta.db);
      const facts = (digest: string, layer: { digest: string; size: number }): ArtifactFacts => ({
        digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: null, kind: 'image', subject: null,
        configDigest: config.digest, manifestSize: 1, size: 1, platforms: [], created: null, annotations: {},
        blobs: [[config.digest, config.size], [shared.digest, shared.size], [layer.digest, layer.size]], children: [],
      });
      await book.record('team/app', facts(old.digest, oldLayer), Date.now());
      await book.record('team/app', facts(current.digest, newLayer), Date.now());
      lists.length = 0;
      const first = await pass(meta, registry);
      assert.deepEqual(first.manifests, [{ repository: 'team/app', digest: old.digest }]);
      assert.equal(await book.get('team/app', old.digest), undefined, 'the inventory forgets what the review deleted');
      assert.notEqual(await book.get('team/app', current.digest), undefined, 'and keeps the tagged one');
      // The manifest's delete queued its released blobs, due after their own grace: the next pass.
      const second = await pass(meta, registry);
      assert.deepEqual(second.blobs.sort(), [old.digest, oldLayer.digest].sort());
      assert.equal(await hasBlob(registry, oldLayer.digest), false);
      assert.equal(await hasBlob(registry, old.digest), false);
      for (const kept of [shared, config, newLayer]) assert.equal(await hasBlob(registry, kept.digest), true);
      assert.equal((await registry.manifests.get('team/app', { tag: 'v1' })).digest.value, current.digest);
      assert.deepEqual(lists.filter((p) => /\/(repositories|blobs)\/?$/.test(p)), [], `no walk: ${lists.join(', ')}`);
      assert.equal(await pendingReviews(meta), 0);
    } finally {
      await meta.close();
    }
  });

  it('a re-tag or a new push referencing the content before its review wins', async () => {
    const meta = await backend.open();
    try {
      const { registry } = setup(meta);
      const layer = blob('contested');
      const m = imageManifest(config, [layer]);
      await putImage(registry, 'team/app', config, [layer], m, 'v1');
      await registry.manifests.delete('team/app', { tag: 'v1' });
      await putManifest(registry, 'team/app', m, 'v2');
      const kept = await pass(meta, registry);
      assert.deepEqual(kept.manifests, []);
      assert.equal(kept.kept, 1);
      // The manifest deleted by digest releases its blobs; a push elsewhere takes the layer back before the review.
      await registry.manifests.delete('team/app', { digest: d(m.digest) });
      const again = imageManifest(config, [layer], { annotations: { again: 'yes' } });
      await putImage(registry, 'team/other', config, [layer], again, 'v1');
      const r = await pass(meta, registry);
      assert.deepEqual(r.blobs, [m.digest], 'only the deleted manifest\'s own bytes go');
      assert.equal(await hasBlob(registry, layer.digest), true);
      assert.equal((await registry.manifests.get('team/other', { tag: 'v1' })).digest.value, again.digest);
    } finally {
      await meta.close();
    }
  });

  it('a revision storage lost behind the database (a delete cut by kill -9) is released when the repository is re-read', async () => {
    const meta = await backend.open();
    try {
      const driver = new MemoryDriver();
      const index = new MetaListingIndex(meta, new StorageListing(driver), { log: quiet });
      const registry = new Registry(driver, { index });
      const layer = blob('lost behind the back');
      const m = imageManifest(config, [layer], { annotations: { lost: 'yes' } });
      await putImage(registry, 'team/lost', config, [layer], m, 'v1');
      // The storage half of a delete by digest, with no database write after it.
      await driver.delete(layout.revisionLink('team/lost', d(m.digest)).replace(/\/link$/, ''));
      await driver.delete(layout.tag('team/lost', 'v1'));
      assert.equal(await pendingReviews(meta), 0);
      assert.equal(await index.resync('team/lost'), true);
      const r = await pass(meta, registry);
      assert.deepEqual(r.blobs.sort(), [config.digest, layer.digest, m.digest].sort(), 'what the lost revision kept is collected');
      assert.equal(await hasBlob(registry, layer.digest), false);
    } finally {
      await meta.close();
    }
  });

  it('keeps the children of a kept index and collects referrers with their subject', async () => {
    const meta = await backend.open();
    try {
      const { registry } = setup(meta);
      const a = imageManifest(config, [shared], { annotations: { arch: 'a' } });
      const b = imageManifest(config, [shared], { annotations: { arch: 'b' } });
      await putImage(registry, 'team/multi', config, [shared], a, 'tmp-a');
      await putManifest(registry, 'team/multi', b, 'tmp-b');
      await putManifest(registry, 'team/multi', indexManifest([a, b]), 'v1');
      await registry.manifests.delete('team/multi', { tag: 'tmp-a' });
      await registry.manifests.delete('team/multi', { tag: 'tmp-b' });
      const sig = blob('signature');
      await putBlob(registry, 'team/app', config);
      await putBlob(registry, 'team/app', shared);
      await putBlob(registry, 'team/app', sig);
      await putBlob(registry, 'team/app', EMPTY_CONFIG);
      const subject = imageManifest(config, [shared], { annotations: { s: '1' } });
      await putManifest(registry, 'team/app', subject, 'v1');
      const ref = artifact(subject, 'application/vnd.example.sig', sig);
      await putManifest(registry, 'team/app', ref);
      await registry.manifests.delete('team/app', { tag: 'v1' });
      const first = await pass(meta, registry);
      assert.deepEqual(first.manifests, [{ repository: 'team/app', digest: subject.digest }], 'children of the tagged index stay');
      const second = await pass(meta, registry);
      assert.deepEqual(second.manifests, [{ repository: 'team/app', digest: ref.digest }], 'the referrer follows its subject');
      assert.equal(await registry.manifests.exists('team/multi', d(a.digest)), true);
      assert.equal(await registry.manifests.exists('team/multi', d(b.digest)), true);
    } finally {
      await meta.close();
    }
  });

  it('concurrent workers never review the same row twice', async () => {
    const meta = await backend.open();
    try {
      const { registry } = setup(meta);
      for (let i = 0; i < 12; i++) {
        const m = imageManifest(config, [shared], { annotations: { i: String(i) } });
        if (i === 0) await putImage(registry, 'team/many', config, [shared], m, `t${i}`);
        else await putManifest(registry, 'team/many', m, `t${i}`);
        await registry.manifests.delete('team/many', { tag: `t${i}` });
      }
      const at = Date.now();
      await new Promise((r) => setTimeout(r, 5));
      const runs = await Promise.all([1, 2, 3].map(() => reviewOnce(meta, registry, { ...options, batch: 2, now: () => at + GRACE })));
      const all = runs.flatMap((r) => r.manifests.map((m) => m.digest));
      assert.equal(all.length, 12);
      assert.equal(new Set(all).size, 12);
      assert.equal(runs.reduce((n, r) => n + r.reviewed, 0), 12, 'each row reviewed once');
    } finally {
      await meta.close();
    }
  });
});
