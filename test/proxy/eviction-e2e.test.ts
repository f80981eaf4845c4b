// Cache limits end to end: a Berth mirroring an upstream Berth (through a counting proxy) with a
// maxsize, its eviction schedule running inside serve. Filled past maxsize, the least recently
// pulled image goes; a layer it shared with a remaining image stays, still pulls byte-exact
// without the upstream, and survives the garbage collection that reclaims the evicted layer.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, randomBlob, type Blob, type Manifest } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import { Registry } from '../../src/registry/registry.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { collectGarbage } from '../../src/gc/collector.js';
import { openMetaDatabase, type MetaDatabase } from '../../src/meta/database.js';
import { d, later } from '../support/seed.js';
import { CountingProxy, pull, startMirror, upstream } from './support.js';

interface Image {
  name: string;
  tag: string;
  config: Blob;
  layers: Blob[];
  manifest: Manifest;
}

function image(name: string, tag: string, config: Blob, layers: Blob[]): Image {
  return { name, tag, config, layers, manifest: imageManifest(config, layers) };
}

describe('proxy cache limits end to end', { timeout: 120_000 }, () => {
  let origin: TestRegistry;
  let counting: CountingProxy;
  let mirror: TestRegistry;
  let meta: MetaDatabase;
  let core: Registry;
  const shared = randomBlob(40_000);
  const a = image('lab/app', 'v1', blob('{"img":"a"}'), [shared, randomBlob(30_000)]);
  const b = image('lab/app', 'v2', blob('{"img":"b"}'), [shared]);
  const c = image('lab/other', 'v1', blob('{"img":"c"}'), [randomBlob(30_000)]);

  before(async () => {
    origin = await startTestRegistry();
    for (const i of [a, b, c]) await pushImage(origin.url, i.name, i.tag, i.config, i.layers, i.manifest);
    counting = await CountingProxy.start(origin.host);
    // a + b + c is about 100 kB; any two of them fit in 80 kB.
    mirror = await startMirror({ upstreams: [upstream('hub', counting.url, { maxsize: '80KB' })], eviction: { interval: '1s', collect: false } });
    meta = await openMetaDatabase({ sqlite: { path: join(mirror.root!, 'berth', 'meta.sqlite') } });
    core = new Registry(new FilesystemDriver(mirror.root!));
  });
  after(async () => {
    await meta?.close();
    await mirror?.close();
    await counting?.close();
    await origin?.close();
  });

  async function cachedRepositories(): Promise<string[]> {
    const rows = await meta.db.selectFrom('proxy_cache_entries').select('repository').where('kind', '=', 'manifest').execute();
    return rows.map((r) => r.repository).sort();
  }

  it('evicts the least recently pulled image once the cache is past maxsize', async () => {
    for (const i of [a, b, c]) {
      const r = await pull(mirror.url, `hub/${i.name}`, i.tag);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.digest, i.manifest.digest);
      await sleep(20); // distinct pull times
    }
    const deadline = Date.now() + 30_000;
    // The bookkeeping rows go just after the content: wait for both.
    while (await core.manifests.exists('hub/lab/app', d(a.manifest.digest)) || (await cachedRepositories()).length > 2) {
      assert.ok(Date.now() < deadline, 'the eviction schedule evicted nothing within 30 s');
      await sleep(200);
    }
    assert.deepEqual(await cachedRepositories(), ['hub/lab/app', 'hub/lab/other']);
    assert.equal(await core.manifests.exists('hub/lab/app', d(b.manifest.digest)), true);
    assert.equal(await core.blobs.isLinked('hub/lab/app', d(shared.digest)), true, 'the shared layer stays linked');
    assert.equal(await core.blobs.isLinked('hub/lab/app', d(a.layers[1]!.digest)), false, "a's own layer is unlinked");
    const text = await mirror.server.observability.metrics!.registry.metrics();
    assert.match(text, /registry_proxy_evictions_total\{upstream="hub"\} [1-9]/, text);
    const cached = Number(/registry_proxy_cache_bytes\{upstream="hub"\} (\d+)/.exec(text)?.[1]);
    assert.ok(cached > 40_000 && cached <= 80_000, `cache size after eviction: ${cached}`);
  });

  it('serves the remaining images, shared layer included, byte-exact from the cache alone', async () => {
    counting.reset();
    for (const i of [b, c]) {
      const r = await pull(mirror.url, `hub/${i.name}`, i.tag);
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.cache, r.cache.map(() => 'hit'), `${i.name}:${i.tag} served from the cache`);
    }
    assert.equal(counting.count('GET'), 0, 'no upstream GET');
  });

  it('leaves the data to the garbage collector, which keeps the shared layer', async () => {
    const report = await collectGarbage(core, { now: later });
    const deleted = new Set(report.blobs.map((x) => x.digest));
    assert.ok(deleted.has(a.layers[1]!.digest), "a's own layer reclaimed");
    assert.ok(!deleted.has(shared.digest), 'the shared layer kept');
    const r = await pull(mirror.url, `hub/${b.name}`, b.tag);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.digest, b.manifest.digest);
  });

  it('fetches an evicted image again from the upstream on its next pull', async () => {
    counting.reset();
    const r = await pull(mirror.url, `hub/${a.name}`, a.tag);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.digest, a.manifest.digest);
    assert.ok(counting.count('GET', /\/manifests\//) >= 1, 'the manifest came from the upstream');
    assert.equal(counting.count('GET', new RegExp(`/blobs/${a.layers[1]!.digest}`)), 1, 'its reclaimed layer too');
  });
});

describe('proxy cache limits free the disk: the collector runs after an eviction', { timeout: 120_000 }, () => {
  let origin: TestRegistry;
  let mirror: TestRegistry;
  const x = image('lab/x', 'v1', blob('{"img":"x"}'), [randomBlob(30_000)]);
  const y = image('lab/y', 'v1', blob('{"img":"y"}'), [randomBlob(30_000)]);
  const dataOf = (digest: string) => join(mirror.root!, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data');

  before(async () => {
    origin = await startTestRegistry();
    for (const i of [x, y]) await pushImage(origin.url, i.name, i.tag, i.config, i.layers, i.manifest);
    // Either image fits in 40 kB, both do not. No grace: the test's content is seconds old.
    mirror = await startMirror({ upstreams: [upstream('hub', origin.url, { maxsize: '40KB' })], eviction: { interval: '1s', collect: true } },
      (c) => { c.gc.grace = '0s'; });
  });
  after(async () => {
    await mirror?.close();
    await origin?.close();
  });

  it("deletes the evicted image's data with no gc schedule, and keeps serving the other", async () => {
    for (const i of [x, y]) {
      const r = await pull(mirror.url, `hub/${i.name}`, i.tag);
      assert.equal(r.status, 200, r.body);
      await sleep(20);
    }
    assert.ok(existsSync(dataOf(x.layers[0]!.digest)), "x's layer was cached");
    const deadline = Date.now() + 30_000;
    while (existsSync(dataOf(x.layers[0]!.digest))) {
      assert.ok(Date.now() < deadline, "x's layer data still on disk 30 s after the cache passed maxsize");
      await sleep(200);
    }
    assert.ok(existsSync(dataOf(y.layers[0]!.digest)), "y's layer stays");
    const again = await pull(mirror.url, `hub/${y.name}`, y.tag);
    assert.deepEqual([again.status, again.digest], [200, y.manifest.digest]);
    assert.deepEqual(again.cache, again.cache.map(() => 'hit'));
  });
});
