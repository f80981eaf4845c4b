// Eviction over the real bookkeeping tables (SQLite and PostgreSQL) and a real registry core:
// what goes from storage, what stays pullable byte-exact, which rows are deleted, and what the
// garbage collector reclaims afterwards.
import { it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { Registry as PromRegistry } from 'prom-client';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import type { MetaDatabase } from '../../src/meta/database.js';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { evictProxyCache } from '../../src/proxy/eviction.js';
import { readAudit } from '../../src/auth/audit.js';
import { cacheBytesByUpstream, createEvictionMetrics } from '../../src/proxy/eviction-metrics.js';
import { collectGarbage } from '../../src/gc/collector.js';
import { blob, imageManifest, indexManifest, randomBlob, type Blob, type Manifest } from '../support/oci-fixtures.js';
import { d, hasBlob, later, putBlob, putImage, putManifest } from '../support/seed.js';
import { ImmutableTags } from '../../src/policy/immutable-tags.js';
import { compilePolicies } from '../../src/policy/policies.js';

const HOUR = 3_600_000;
const NOW = Date.now();
const UPSTREAM = 'dockerhub';

interface Cached {
  repository: string;
  manifest: Manifest;
  blobs: Blob[];
}

forEachMetaDatabase('proxy cache eviction', (backend) => {
  let meta: MetaDatabase;
  let registry: Registry;
  beforeEach(async () => {
    meta = await backend.open();
    registry = new Registry(new MemoryDriver());
  });
  afterEach(() => meta.close());

  /** Stores an image as the proxy would, and its bookkeeping rows, pulled at `pulledAt`. */
  async function cache(repository: string, tag: string, blobs: Blob[], pulledAt: number, upstream = UPSTREAM): Promise<Cached> {
    const [config, ...layers] = blobs as [Blob, ...Blob[]];
    const manifest = imageManifest(config, layers);
    await putImage(registry, repository, config, layers, manifest, tag);
    await rows(upstream, repository, [{ digest: manifest.digest, kind: 'manifest', size: manifest.body.length }, ...blobs.map((b) => ({ digest: b.digest, kind: 'blob' as const, size: b.size }))], pulledAt);
    await meta.db.insertInto('proxy_cache_tags').values({ upstream, repository, tag, digest: manifest.digest, validated_at: pulledAt }).execute();
    return { repository, manifest, blobs };
  }

  async function rows(upstream: string, repository: string, entries: { digest: string; kind: 'manifest' | 'blob'; size: number }[], pulledAt: number) {
    await meta.db.insertInto('proxy_cache_entries')
      .values(entries.map((e) => ({ upstream, repository, ...e, fetched_at: pulledAt, last_pulled_at: pulledAt })))
      .onConflict((oc) => oc.columns(['upstream', 'repository', 'digest']).doUpdateSet({ last_pulled_at: pulledAt }))
      .execute();
  }

  async function rowDigests(repository: string): Promise<string[]> {
    const r = await meta.db.selectFrom('proxy_cache_entries').select('digest').where('repository', '=', repository).execute();
    return r.map((x) => x.digest).sort();
  }

  async function pullsExactly(c: Cached, tag: string): Promise<void> {
    const got = await registry.manifests.get(c.repository, { tag });
    assert.equal(got.digest.value, c.manifest.digest);
    for (const b of c.blobs) {
      assert.equal(await registry.blobs.isLinked(c.repository, d(b.digest)), true, `${b.digest} linked in ${c.repository}`);
      assert.deepEqual(await buffer(await registry.blobs.open(c.repository, d(b.digest))), b.data);
    }
  }

  it('evicts the least recently pulled image above maxsize; a layer a remaining image shares stays and pulls byte-exact', async () => {
    const shared = randomBlob(4000);
    const oldest = await cache('dockerhub/library/a', 'latest', [blob('{"a":1}'), shared, randomBlob(3000)], NOW - 3 * HOUR);
    const middle = await cache('dockerhub/library/a', 'v2', [blob('{"a":2}'), shared], NOW - 2 * HOUR);
    const newest = await cache('dockerhub/library/b', 'latest', [blob('{"b":1}'), randomBlob(2000)], NOW - HOUR);
    const before = (await cacheBytesByUpstream(meta.db))[0]?.bytes ?? 0;
    assert.ok(before > 9000);

    const report = await evictProxyCache(registry, meta.db, [{ upstream: UPSTREAM, maxBytes: before - 1, maxAgeMs: 0 }], { now: () => NOW });

    const [u] = report.upstreams;
    assert.deepEqual(u?.evicted.map((e) => [e.repository, e.root, e.reason]), [['dockerhub/library/a', oldest.manifest.digest, 'maxsize']]);
    assert.equal(u?.evicted[0]?.freedBytes, 3000 + 7 + oldest.manifest.body.length);
    const audit = await readAudit(meta.db, { actor: 'proxy-eviction' });
    assert.deepEqual(audit.map((a) => [a.action, a.target, a.detail.reason]), [['delete', `dockerhub/library/a@${oldest.manifest.digest}`, 'maxsize']]);
    await assert.rejects(registry.manifests.get(oldest.repository, { tag: 'latest' }), { code: 'MANIFEST_UNKNOWN' });
    assert.equal(await registry.blobs.isLinked(oldest.repository, d(oldest.blobs[2]!.digest)), false);
    await pullsExactly(middle, 'v2');
    await pullsExactly(newest, 'latest');
    assert.deepEqual(await rowDigests(oldest.repository), [middle.manifest.digest, ...middle.blobs.map((b) => b.digest)].sort());
    const tags = await meta.db.selectFrom('proxy_cache_tags').select('tag').where('repository', '=', oldest.repository).execute();
    assert.deepEqual(tags.map((t) => t.tag), ['v2']);
    assert.equal((await cacheBytesByUpstream(meta.db))[0]?.bytes, before - (u?.evicted[0]?.freedBytes ?? 0));

    // The data is the collector's: it goes at the next run, and the shared layer stays.
    const gc = await collectGarbage(registry, { now: later });
    assert.ok(gc.blobs.some((b) => b.digest === oldest.blobs[2]!.digest));
    assert.equal(await hasBlob(registry, oldest.blobs[2]!.digest), false);
    assert.equal(await hasBlob(registry, shared.digest), true);
    await pullsExactly(middle, 'v2');
  });

  it('evicts by age only from the upstream it limits, and a dry run changes nothing', async () => {
    const stale = await cache('dockerhub/library/old', 'latest', [blob('{"o":1}'), randomBlob(100)], NOW - 30 * 24 * HOUR);
    const fresh = await cache('dockerhub/library/new', 'latest', [blob('{"n":1}'), randomBlob(100)], NOW - HOUR);
    const other = await cache('ghcr/owner/tool', 'latest', [blob('{"g":1}'), randomBlob(100)], NOW - 30 * 24 * HOUR, 'ghcr');
    const limits = [{ upstream: UPSTREAM, maxBytes: 0, maxAgeMs: 7 * 24 * HOUR }];

    const dry = await evictProxyCache(registry, meta.db, limits, { dryRun: true, now: () => NOW });
    assert.deepEqual(dry.upstreams[0]?.evicted.map((e) => [e.repository, e.reason]), [['dockerhub/library/old', 'maxage']]);
    await pullsExactly(stale, 'latest');
    assert.equal((await rowDigests(stale.repository)).length, 3);

    const real = await evictProxyCache(registry, meta.db, limits, { now: () => NOW });
    assert.equal(real.upstreams[0]?.evicted.length, 1);
    await assert.rejects(registry.manifests.get(stale.repository, { tag: 'latest' }), { code: 'MANIFEST_UNKNOWN' });
    assert.deepEqual(await rowDigests(stale.repository), []);
    await pullsExactly(fresh, 'latest');
    await pullsExactly(other, 'latest');
  });

  it('evicts a cached index together with its children, keeping a child another cached index lists', async () => {
    const repo = 'dockerhub/library/multi';
    const [c1, l1, c2, l2] = [blob('{"p":1}'), randomBlob(500), blob('{"p":2}'), randomBlob(600)];
    const amd = imageManifest(c1, [l1]);
    const arm = imageManifest(c2, [l2]);
    for (const b of [c1, l1, c2, l2]) await putBlob(registry, repo, b);
    await putManifest(registry, repo, amd);
    await putManifest(registry, repo, arm);
    const both = indexManifest([amd, arm]);
    const onlyAmd = indexManifest([amd]);
    await putManifest(registry, repo, both, 'old');
    await putManifest(registry, repo, onlyAmd, 'new');
    const entry = (m: Manifest) => ({ digest: m.digest, kind: 'manifest' as const, size: m.body.length });
    await rows(UPSTREAM, repo, [entry(both), entry(arm)], NOW - 10 * HOUR);
    await rows(UPSTREAM, repo, [entry(onlyAmd), entry(amd)], NOW);
    await rows(UPSTREAM, repo, [c1, l1, c2, l2].map((b) => ({ digest: b.digest, kind: 'blob' as const, size: b.size })), NOW);

    const report = await evictProxyCache(registry, meta.db, [{ upstream: UPSTREAM, maxBytes: 0, maxAgeMs: 5 * HOUR }], { now: () => NOW });

    const [e] = report.upstreams[0]?.evicted ?? [];
    assert.deepEqual(e?.manifests, [both.digest, arm.digest]);
    assert.deepEqual(e?.blobs.sort(), [c2.digest, l2.digest].sort());
    assert.equal(await registry.manifests.exists(repo, d(both.digest)), false);
    assert.equal(await registry.manifests.exists(repo, d(arm.digest)), false);
    assert.equal(await registry.manifests.exists(repo, d(amd.digest)), true);
    assert.equal((await registry.manifests.get(repo, { tag: 'new' })).digest.value, onlyAmd.digest);
    assert.equal(await registry.blobs.isLinked(repo, d(l1.digest)), true);
    assert.equal(await registry.blobs.isLinked(repo, d(l2.digest)), false);
  });

  it('never unlinks a blob a manifest in storage still needs, even one the bookkeeping lost', async () => {
    const repo = 'dockerhub/library/drift';
    const layer = randomBlob(800);
    const evicted = await cache(repo, 'old', [blob('{"d":1}'), layer], NOW - 5 * HOUR);
    // A second image with the same layer, stored but without rows (a crash before bookkeeping).
    const config = blob('{"d":2}');
    const untracked = imageManifest(config, [layer]);
    await putBlob(registry, repo, config);
    await putManifest(registry, repo, untracked, 'untracked');

    const report = await evictProxyCache(registry, meta.db, [{ upstream: UPSTREAM, maxBytes: 1, maxAgeMs: 0 }], { now: () => NOW });

    const [e] = report.upstreams[0]?.evicted ?? [];
    assert.deepEqual(e?.manifests, [evicted.manifest.digest]);
    assert.deepEqual(e?.blobs, [evicted.blobs[0]!.digest], 'the layer stays linked');
    assert.equal(await registry.blobs.isLinked(repo, d(layer.digest)), true);
    assert.deepEqual(await rowDigests(repo), [layer.digest], 'the kept layer keeps its row');
    assert.equal((await registry.manifests.get(repo, { tag: 'untracked' })).digest.value, untracked.digest);
  });

  it('reports an image the core refuses to delete (an immutable tag) and goes on with the others', async () => {
    const guard = ImmutableTags.from(compilePolicies({ locked: { immutabletags: ['*'] } }));
    registry = new Registry(new MemoryDriver(), { tagGuard: guard! });
    const locked = await cache('locked/app', 'v1', [blob('{"l":1}'), randomBlob(100)], NOW - 5 * HOUR);
    const free = await cache('dockerhub/library/free', 'v1', [blob('{"f":1}'), randomBlob(100)], NOW - 4 * HOUR);
    await meta.db.updateTable('proxy_cache_entries').set({ upstream: UPSTREAM }).execute();
    await meta.db.updateTable('proxy_cache_tags').set({ upstream: UPSTREAM }).execute();

    const report = await evictProxyCache(registry, meta.db, [{ upstream: UPSTREAM, maxBytes: 0, maxAgeMs: HOUR }], { now: () => NOW });

    const [u] = report.upstreams;
    assert.deepEqual(u?.failed.map((f) => f.repository), ['locked/app']);
    assert.match(u?.failed[0]?.error ?? '', /immutable|denied/i);
    assert.deepEqual(u?.evicted.map((e) => e.repository), ['dockerhub/library/free']);
    await pullsExactly(locked, 'v1');
    assert.equal((await rowDigests(locked.repository)).length, 3, 'its rows stay for the next run');
    await assert.rejects(registry.manifests.get(free.repository, { tag: 'v1' }), { code: 'MANIFEST_UNKNOWN' });
  });

  it('reports evictions and the cache size per upstream as Prometheus metrics', async () => {
    await cache('dockerhub/library/m', 'latest', [blob('{"m":1}'), randomBlob(1000)], NOW - 3 * HOUR);
    await cache('dockerhub/library/n', 'latest', [blob('{"n":1}'), randomBlob(1000)], NOW);
    const prom = new PromRegistry();
    const metrics = createEvictionMetrics(prom, meta.db, [UPSTREAM, 'quay']);
    metrics.recordRun(await evictProxyCache(registry, meta.db, [{ upstream: UPSTREAM, maxBytes: 1500, maxAgeMs: 0 }], { now: () => NOW }));
    const text = await prom.metrics();
    assert.match(text, /registry_proxy_evictions_total\{upstream="dockerhub"\} 1\n/);
    const evicted = Number(/registry_proxy_evicted_bytes_total\{upstream="dockerhub"\} (\d+)/.exec(text)?.[1]);
    assert.ok(evicted > 1000, text);
    const cached = Number(/registry_proxy_cache_bytes\{upstream="dockerhub"\} (\d+)/.exec(text)?.[1]);
    assert.ok(cached > 1000 && cached <= 1500, text);
    assert.match(text, /registry_proxy_cache_bytes\{upstream="quay"\} 0\n/);
  });
});
