// The read API's upstreams page (/api/v1/upstreams, the console's Upstreams tab): after a miss
// and a hit through a real upstream Berth, it reports the cache's rows and this process's
// hits, misses and bytes as the proxy's counters and the counting proxy saw them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { image, pushWith } from '../auth/support.js';
import { CountingProxy, pull, startMirror, upstream } from './support.js';
import { assertError, getJson, read } from '../api/read-support.js';

interface Report {
  items: Array<{
    name: string; remoteurl: string; prefix: string | null; breaker: string;
    cache: { manifests: number; blobs: number; bytes: number; tags: number; lastPulledAt: string | null };
    traffic: { hits: { manifest: number; blob: number }; misses: { manifest: number; blob: number }; upstreamBytes: number; servedBytes: number } | null;
  }>;
}

describe('read API: pull-through upstreams', () => {
  let up: TestRegistry;
  let counting: CountingProxy;
  let mirror: TestRegistry;
  const app = image();

  before(async () => {
    up = await startTestRegistry();
    assert.equal(await pushWith(up.url, 'team/app', 'v1', app, undefined), 201);
    counting = await CountingProxy.start(up.host);
    mirror = await startMirror({ upstreams: [upstream('hub', counting.url)] }, (c) => { c.metrics = { ...c.metrics, enabled: true }; });
  });
  after(async () => {
    await mirror?.close();
    await counting?.close();
    await up?.close();
  });

  it('reports the cache and the traffic of a miss then a hit', async () => {
    assert.deepEqual((await pull(mirror.url, 'hub/team/app', 'v1')).cache, ['miss', 'miss', 'miss']);
    assert.deepEqual((await pull(mirror.url, 'hub/team/app', 'v1')).cache, ['hit', 'hit', 'hit']);
    const blobs = app.config.size + app.layer.size;
    const report = await read<Report>(`${mirror.url}/api/v1/upstreams`, 'UpstreamList');
    assert.equal(report.items.length, 1);
    const hub = report.items[0]!;
    assert.equal(hub.name, 'hub');
    assert.equal(hub.remoteurl, counting.url);
    assert.equal(hub.prefix, 'hub');
    assert.equal(hub.breaker, 'closed');
    assert.deepEqual({ ...hub.cache, lastPulledAt: null }, { manifests: 1, blobs: 2, bytes: blobs + app.manifest.body.length, tags: 1, lastPulledAt: null });
    assert.ok(hub.cache.lastPulledAt);
    assert.deepEqual(hub.traffic?.hits, { manifest: 1, blob: 2 });
    assert.deepEqual(hub.traffic?.misses, { manifest: 1, blob: 2 });
    assert.equal(hub.traffic?.upstreamBytes, blobs + app.manifest.body.length, 'the manifest and blobs fetched once');
    assert.equal(counting.count('GET', /\/blobs\//), 2);
  });

  it('answers an empty list on a registry without a pull-through cache', async () => {
    assert.deepEqual(await read<Report>(`${up.url}/api/v1/upstreams`, 'UpstreamList'), { items: [] });
    assertError(await getJson(`${up.url}/api/v1/upstreams/x`), 404, 'NOT_FOUND');
  });
});
