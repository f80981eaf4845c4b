// The listing index in the metadata database, on SQLite and on a real PostgreSQL: what the core
// writes reaches it, pages come from SQL in bytewise order, it matches a re-read of storage, and
// a crash between a storage write and its index write is repaired from storage.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { MetaListingIndex } from '../../src/meta/listing-index.js';
import { rebuildListing, startListing, verifyListing } from '../../src/meta/listing-sync.js';
import type { MetaDatabase } from '../../src/meta/database.js';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { artifact, blob, EMPTY_CONFIG, imageManifest } from '../support/oci-fixtures.js';
import { d, later, putBlob, putImage, putManifest } from '../support/seed.js';
import { collectGarbage } from '../../src/gc/collector.js';
import { withFaults } from '../fakes/faulty-driver.js';

const quiet = { info: () => {}, warn: () => {} };
const config = blob('{"os":"linux"}');
const layer = blob('listing layer');
const img = imageManifest(config, [layer]);
const other = imageManifest(config, [layer], { annotations: { v: '2' } });
const sbom = blob('{"sbom":1}');
const ref = artifact(img, 'application/vnd.example.sbom', sbom);

/** A driver that fails right after storing any path `when` matches: the process "dies" there. */
function crashingAfter(driver: StorageDriver, when: (path: string) => boolean): StorageDriver {
  const faulty = withFaults(driver);
  faulty.inject({ method: 'putContent', path: when, after: true, error: (call) => new Error(`injected crash after writing ${call.path}`) });
  return faulty.driver;
}

function setup(meta: MetaDatabase, driver: StorageDriver = new MemoryDriver()) {
  const walk = new StorageListing(driver);
  const index = new MetaListingIndex(meta, walk, { log: quiet });
  return { driver, walk, index, registry: new Registry(driver, { index }) };
}

forEachMetaDatabase('listing index', (backend) => {
  it('pages the catalog and tag lists in SQL, in bytewise order', async () => {
    const meta = await backend.open();
    try {
      const { registry } = setup(meta);
      for (const repo of ['b/app', 'a', 'b', 'B-upper'.toLowerCase(), 'zeta/x']) await putImage(registry, repo, config, [layer], img, 'v1');
      const tags = ['Z', 'a', 'B', '1.0', '_x', 'latest'];
      for (const t of tags) await putManifest(registry, 'a', img, t);
      assert.deepEqual(await registry.catalog.page({ n: 2 }), { items: ['a', 'b'], more: true });
      assert.deepEqual(await registry.catalog.page({ n: 2, last: 'b' }), { items: ['b-upper', 'b/app'], more: true });
      assert.deepEqual(await registry.catalog.page({ last: 'b/app' }), { items: ['zeta/x'], more: false });
      const all = [...tags, 'v1'].sort();
      assert.deepEqual(await registry.tags.page('a', {}), { items: all, more: false });
      assert.deepEqual(await registry.tags.page('a', { n: 3, last: 'B' }), { items: all.slice(all.indexOf('B') + 1, all.indexOf('B') + 4), more: true });
      assert.equal(await registry.tags.page('nothing', {}), undefined);
    } finally {
      await meta.close();
    }
  });

  it('answers listings without reading storage', async () => {
    const meta = await backend.open();
    try {
      const counting = withFaults(new MemoryDriver());
      const READS = ['list', 'stat', 'getContent', 'walk', 'reader'];
      const reads = () => counting.calls.filter((c) => READS.includes(c.method)).map((c) => `${c.method} ${c.path}`);
      const { registry } = setup(meta, counting.driver);
      await putImage(registry, 'team/app', config, [layer], img, 'v1');
      for (const b of [EMPTY_CONFIG, sbom]) await putBlob(registry, 'team/app', b);
      await putManifest(registry, 'team/app', ref);
      counting.calls.length = 0;
      assert.deepEqual((await registry.catalog.page({ n: 10 })).items, ['team/app']);
      assert.deepEqual((await registry.tags.page('team/app', {}))?.items, ['v1']);
      assert.deepEqual(await registry.tags.tagsOf('team/app', d(img.digest)), ['v1']);
      assert.deepEqual((await registry.referrers.list('team/app', d(img.digest))).map((x) => x.value), [ref.digest]);
      assert.deepEqual(reads(), []);
    } finally {
      await meta.close();
    }
  });

  it('follows tags, untags, manifest deletes and referrers, and matches storage after them', async () => {
    const meta = await backend.open();
    try {
      const { registry, index, walk } = setup(meta);
      await putImage(registry, 'team/app', config, [layer], img, 'v1');
      await putManifest(registry, 'team/app', img, 'v2');
      await putManifest(registry, 'team/app', other, 'v3');
      for (const b of [EMPTY_CONFIG, sbom]) await putBlob(registry, 'team/app', b);
      await putManifest(registry, 'team/app', ref);
      assert.deepEqual(await registry.tags.tagsOf('team/app', d(img.digest)), ['v1', 'v2']);
      assert.deepEqual((await registry.referrers.list('team/app', d(img.digest))).map((x) => x.value), [ref.digest]);
      await putManifest(registry, 'team/app', other, 'v2');
      assert.deepEqual(await registry.tags.tagsOf('team/app', d(other.digest)), ['v2', 'v3']);
      await registry.manifests.delete('team/app', { tag: 'v3' });
      await registry.manifests.delete('team/app', { digest: d(ref.digest) });
      assert.deepEqual(await registry.referrers.list('team/app', d(img.digest)), []);
      await registry.manifests.delete('team/app', { digest: d(other.digest) });
      assert.deepEqual(await registry.tags.list('team/app'), ['v1']);
      assert.deepEqual(await verifyListing(index, walk), []);
    } finally {
      await meta.close();
    }
  });

  it('verify names the differences; rebuild repairs them', async () => {
    const meta = await backend.open();
    try {
      const driver = new MemoryDriver();
      const { index, walk } = setup(meta, driver);
      // Written behind the index's back, as registry:2 sharing the storage would.
      const behind = new Registry(driver);
      await putImage(behind, 'dist/wrote', config, [layer], img, 'v1');
      await meta.db.insertInto('berth_listing_repository').values({ name: 'ghost', present: 1, seq: 0 }).execute();
      const drift = await verifyListing(index, walk);
      assert.deepEqual(drift, ['dist/wrote: repository in storage, missing from the index', 'ghost: repository in the index, not in storage']);
      assert.deepEqual(await rebuildListing(meta, index, walk).then((r) => r.repositories), 2);
      assert.deepEqual(await verifyListing(index, walk), []);
      assert.deepEqual((await index.repositories({})).items, ['dist/wrote']);
    } finally {
      await meta.close();
    }
  });

  it('builds a never-built index from storage at start', async () => {
    const meta = await backend.open();
    try {
      const driver = new MemoryDriver();
      const behind = new Registry(driver);
      for (let i = 0; i < 30; i++) await putImage(behind, `seeded/r${String(i).padStart(2, '0')}`, config, [layer], img, `t${i}`);
      const service = await startListing(meta, new StorageListing(driver), { log: quiet, resyncIntervalMs: 0 });
      // Until the background build is recorded, listings walk storage: the same answers.
      assert.deepEqual((await service.index.repositories({ n: 1, last: 'seeded/r09' })).items, ['seeded/r10']);
      await service.ready;
      service.stop();
      assert.deepEqual((await service.database.repositories({})).items.length, 30);
      const page = await service.index.repositories({ n: 5, last: 'seeded/r09' });
      assert.deepEqual(page, { items: ['seeded/r10', 'seeded/r11', 'seeded/r12', 'seeded/r13', 'seeded/r14'], more: true });
      assert.deepEqual((await service.index.tags('seeded/r29', {}))?.items, ['t29']);
    } finally {
      await meta.close();
    }
  });

  it('a crash between the storage write and the index write is repaired at the next start', async () => {
    const meta = await backend.open();
    try {
      const base = new MemoryDriver();
      const first = await startListing(meta, new StorageListing(base), { log: quiet, resyncIntervalMs: 0 });
      await first.ready;
      first.stop();
      const crashing = setup(meta, crashingAfter(base, (p) => p.includes('/_manifests/tags/crashed/index/')));
      await putImage(crashing.registry, 'team/app', config, [layer], img, 'v1');
      await assert.rejects(putManifest(crashing.registry, 'team/app', img, 'crashed'), /injected crash/);
      assert.deepEqual(await crashing.registry.tags.list('team/app'), ['v1'], 'the index missed the tag storage has');
      assert.equal(await meta.db.selectFrom('berth_listing_intent').select('id').execute().then((r) => r.length), 1, 'the intent survives');
      // The restart: a new process over the same database and storage.
      const restarted = await startListing(meta, new StorageListing(base), { log: quiet, resyncIntervalMs: 0 });
      restarted.stop();
      assert.deepEqual((await restarted.index.tags('team/app', {}))?.items, ['crashed', 'v1']);
      assert.deepEqual(await verifyListing(restarted.database, new StorageListing(base)), []);
    } finally {
      await meta.close();
    }
  });

  it('a failing index write keeps the request served and is repaired once its intent is stale', async () => {
    const meta = await backend.open();
    try {
      const driver = new MemoryDriver();
      const walk = new StorageListing(driver);
      let now = Date.now();
      let failing = true;
      // The index write of a manifest DELETE needs storage (`exists`); failing it fails that write.
      const source = { read: (n: string) => walk.read(n), exists: async (n: string) => { if (failing) throw new Error('injected index failure'); return walk.exists(n); } };
      const index = new MetaListingIndex(meta, source, { log: quiet, staleAfterMs: 30_000, now: () => now });
      const registry = new Registry(driver, { index });
      await putImage(registry, 'team/app', config, [layer], img, 'v1');
      await registry.manifests.delete('team/app', { digest: d(img.digest) });
      assert.deepEqual(await index.pending(), [], 'not stale yet');
      assert.deepEqual(await index.pending(true), ['team/app']);
      failing = false;
      now += 60_000;
      assert.deepEqual(await index.pending(), ['team/app']);
      assert.equal(await index.resync('team/app'), true);
      assert.deepEqual(await index.pending(true), [], 'the stale intent is gone after the re-read');
      assert.deepEqual(await verifyListing(index, walk), []);
    } finally {
      await meta.close();
    }
  });

  it('a re-read that a change overtakes writes nothing, and the change stands', async () => {
    const meta = await backend.open();
    try {
      const driver = new MemoryDriver();
      const walk = new StorageListing(driver);
      let during: (() => Promise<void>) | undefined;
      const source = {
        read: async (n: string) => { const state = await walk.read(n); await during?.(); return state; },
        exists: (n: string) => walk.exists(n),
      };
      const index = new MetaListingIndex(meta, source, { log: quiet });
      const registry = new Registry(driver, { index });
      await putImage(registry, 'team/app', config, [layer], img, 'v1');
      during = () => registry.tags.tag('team/app', 'v2', d(img.digest));
      assert.equal(await index.resync('team/app'), false);
      during = undefined;
      assert.deepEqual((await index.tags('team/app', {}))?.items, ['v1', 'v2']);
      assert.equal(await index.resync('team/app'), true);
      assert.deepEqual((await index.tags('team/app', {}))?.items, ['v1', 'v2']);
    } finally {
      await meta.close();
    }
  });

  it('two replicas sharing the database, with re-reads running throughout, end equal to storage', async () => {
    const meta = await backend.open();
    try {
      const driver = new MemoryDriver();
      const a = setup(meta, driver);
      const b = setup(meta, driver);
      await putImage(a.registry, 'shared/app', config, [layer], img, 'base');
      await putManifest(a.registry, 'shared/app', other);
      // A re-read that takes its time, so that changes land between its read and its write.
      const slow = { read: async (n: string) => { const s = await a.walk.read(n); await new Promise((r) => setTimeout(r, 3)); return s; }, exists: (n: string) => a.walk.exists(n) };
      const repairer = new MetaListingIndex(meta, slow, { log: quiet });
      let running = true;
      const rereads = (async () => {
        let n = 0;
        while (running) {
          await repairer.resync('shared/app');
          n++;
        }
        return n;
      })();
      const work = (r: typeof a, prefix: string) => Promise.all(Array.from({ length: 12 }, async (_, i) => {
        await putManifest(r.registry, 'shared/app', i % 2 ? img : other, `${prefix}${i}`);
        if (i % 3 === 0) await r.registry.manifests.delete('shared/app', { tag: `${prefix}${i}` });
      }));
      await Promise.all([work(a, 'a'), work(b, 'b')]);
      running = false;
      assert.ok((await rereads) > 0);
      assert.deepEqual(await verifyListing(a.index, a.walk), []);
      assert.equal((await a.registry.tags.list('shared/app'))?.length, 1 + 2 * 8);
    } finally {
      await meta.close();
    }
  });

  it('stays equal to storage after a garbage collection deletes untagged manifests and their referrers', async () => {
    const meta = await backend.open();
    try {
      const { registry, index, walk } = setup(meta);
      await putImage(registry, 'team/app', config, [layer], img, 'v1');
      await putManifest(registry, 'team/app', other);
      for (const b of [EMPTY_CONFIG, sbom]) await putBlob(registry, 'team/app', b);
      const onOther = artifact(other, 'application/vnd.example.sbom', sbom);
      await putManifest(registry, 'team/app', onOther);
      await putManifest(registry, 'team/app', ref);
      const report = await collectGarbage(registry, { deleteUntagged: true, now: later });
      assert.deepEqual(report.manifests.map((m) => m.digest).sort(), [other.digest, onOther.digest].sort());
      assert.deepEqual(await registry.referrers.list('team/app', d(other.digest)), []);
      assert.deepEqual((await registry.referrers.list('team/app', d(img.digest))).map((x) => x.value), [ref.digest]);
      assert.deepEqual(await verifyListing(index, walk), []);
    } finally {
      await meta.close();
    }
  });
});
