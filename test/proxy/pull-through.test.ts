// The pull-through cache against a real upstream Berth with htpasswd auth, through a proxy that
// counts what reaches the upstream: misses and hits, the name mappings, TTL revalidation, stale
// copies, bounded failures and the circuit breaker, refused writes, and the bookkeeping rows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, image, pushWith, type AuthRegistry, startAuthRegistry, type Image } from '../auth/support.js';
import type { TestRegistry } from '../support/registry-server.js';
import { artifact, blob, indexManifest, type Manifest } from '../support/oci-fixtures.js';
import { CountingProxy, pull, startMirror, upstream } from './support.js';

const ALICE = basic('alice', PASSWORD);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MANIFEST = /\/manifests\//;
const BLOB = /\/blobs\//;

describe('pull-through cache (upstream Berth with htpasswd)', () => {
  let up: AuthRegistry;
  let hubProxy: CountingProxy;
  let flakyProxy: CountingProxy;
  let mirror: TestRegistry;
  const alpine = image();
  const app = image();

  before(async () => {
    up = await startAuthRegistry('basic');
    assert.equal(await pushWith(up.url, 'library/alpine', '3', alpine, ALICE), 201);
    assert.equal(await pushWith(up.url, 'team/app', 'v1', app, ALICE), 201);
    hubProxy = await CountingProxy.start(up.host);
    flakyProxy = await CountingProxy.start(up.host);
    mirror = await startMirror({
      upstreams: [
        upstream('hub', hubProxy.url, { namespaces: ['docker.io'], root: true, username: 'alice', password: PASSWORD, ttl: '1s' }),
        upstream('flaky', flakyProxy.url, { username: 'alice', password: PASSWORD, ttl: '1s', timeout: '1s', breakerthreshold: 3, breakercooldown: '1h' }),
      ],
    });
  });
  after(async () => {
    await mirror?.close();
    await hubProxy?.close();
    await flakyProxy?.close();
    await up?.close();
  });

  it('fetches a miss from the upstream once, then serves it without asking the upstream', async () => {
    const first = await pull(mirror.url, 'hub/team/app', 'v1');
    assert.equal(first.status, 200);
    assert.equal(first.digest, app.manifest.digest);
    assert.deepEqual(first.cache, ['miss', 'miss', 'miss']);
    assert.equal(hubProxy.count('GET', BLOB), 2);
    hubProxy.reset();
    const second = await pull(mirror.url, 'hub/team/app', 'v1');
    assert.deepEqual(second.cache, ['hit', 'hit', 'hit']);
    assert.deepEqual(hubProxy.seen, []);
  });

  it('maps ?ns=docker.io and Docker Hub\'s library/ rule onto the upstream that claims docker.io', async () => {
    hubProxy.reset();
    const viaNs = await pull(mirror.url, 'alpine', '3', '?ns=docker.io');
    assert.equal(viaNs.status, 200);
    assert.equal(viaNs.digest, alpine.manifest.digest);
    assert.equal(viaNs.cache[0], 'miss');
    assert.equal(hubProxy.count('GET', /\/v2\/library\/alpine\/manifests\/3/), 1);
    // Stored under the upstream's prefix: the same content answers there, from the cache.
    hubProxy.reset();
    const prefixed = await pull(mirror.url, 'hub/library/alpine', '3');
    assert.deepEqual(prefixed.cache, ['hit', 'hit', 'hit']);
    const full = await pull(mirror.url, 'library/alpine', '3', '?ns=docker.io');
    assert.deepEqual(full.cache, ['hit', 'hit', 'hit']);
    assert.deepEqual(hubProxy.seen, []);
  });

  it('ignores an ns no upstream claims (the name is then an ordinary local one, or the root upstream\'s)', async () => {
    const local = image();
    assert.equal(await pushWith(mirror.url, 'mine/app', 'v1', local, undefined), 201);
    hubProxy.reset();
    const res = await pull(mirror.url, 'mine/app', 'v1', '?ns=quay.io');
    assert.equal(res.status, 200);
    assert.deepEqual(res.cache, ['', '', '']);
    assert.deepEqual(hubProxy.seen, []);
  });

  it('sends names under no prefix that do not exist locally to the root upstream, stored under its prefix', async () => {
    const busybox = image();
    assert.equal(await pushWith(up.url, 'library/busybox', 'latest', busybox, ALICE), 201);
    const res = await pull(mirror.url, 'library/busybox', 'latest');
    assert.equal(res.status, 200);
    assert.equal(res.cache[0], 'miss');
    assert.equal((await pull(mirror.url, 'hub/library/busybox', 'latest')).cache[0], 'hit');
  });

  it('answers HEAD of an uncached blob with the upstream\'s HEAD, downloading nothing', async () => {
    const img = image();
    assert.equal(await pushWith(up.url, 'team/headonly', 'v1', img, ALICE), 201);
    hubProxy.reset();
    const res = await fetch(`${mirror.url}/v2/hub/team/headonly/blobs/${img.layer.digest}`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(img.layer.size));
    assert.equal(res.headers.get('x-berth-cache'), 'miss');
    assert.equal(hubProxy.count('HEAD', BLOB), 1);
    assert.equal(hubProxy.count('GET', BLOB), 0);
  });

  it('revalidates a tag after its TTL with one HEAD: unchanged is not downloaded, changed is refreshed', async () => {
    await pull(mirror.url, 'hub/team/app', 'v1');
    await sleep(1100);
    hubProxy.reset();
    const same = await pull(mirror.url, 'hub/team/app', 'v1');
    assert.equal(same.cache[0], 'revalidated');
    assert.equal(hubProxy.count('HEAD', MANIFEST), 1);
    assert.equal(hubProxy.count('GET', MANIFEST), 0);
    assert.equal(hubProxy.count('GET', BLOB), 0);
    // Within the TTL again: not even a HEAD.
    hubProxy.reset();
    assert.equal((await pull(mirror.url, 'hub/team/app', 'v1')).cache[0], 'hit');
    assert.deepEqual(hubProxy.seen, []);

    const v2: Image = image();
    assert.equal(await pushWith(up.url, 'team/app', 'v1', v2, ALICE), 201);
    await sleep(1100);
    hubProxy.reset();
    const changed = await pull(mirror.url, 'hub/team/app', 'v1');
    assert.equal(changed.digest, v2.manifest.digest);
    assert.equal(changed.cache[0], 'miss');
    assert.equal(hubProxy.count('HEAD', MANIFEST), 1);
    assert.equal(hubProxy.count('GET', MANIFEST), 1);
  });

  it('forgets a cached tag the upstream no longer has, once its TTL is over', async () => {
    const gone = image();
    assert.equal(await pushWith(up.url, 'team/gone', 'v1', gone, ALICE), 201);
    assert.equal((await pull(mirror.url, 'hub/team/gone', 'v1')).status, 200);
    const del = await fetch(`${up.url}/v2/team/gone/manifests/${gone.manifest.digest}`, { method: 'DELETE', headers: { authorization: ALICE } });
    assert.equal(del.status, 202);
    assert.equal((await pull(mirror.url, 'hub/team/gone', 'v1')).status, 200, 'within the TTL the cached tag is served');
    await sleep(1100);
    const after = await pull(mirror.url, 'hub/team/gone', 'v1');
    assert.equal(after.status, 404);
    assert.match(after.body ?? '', /MANIFEST_UNKNOWN/);
    assert.equal(await mirror.server.proxy!.base.tags.resolve('hub/team/gone', 'v1'), undefined);
  });

  it('refuses pushes and deletes into proxied repositories with UNSUPPORTED naming the upstream', async () => {
    const img = image();
    const start = await fetch(`${mirror.url}/v2/hub/team/app/blobs/uploads/`, { method: 'POST' });
    const body = await start.json() as { errors: Array<{ code: string; message: string }> };
    assert.equal(start.status, 405);
    assert.equal(body.errors[0]?.code, 'UNSUPPORTED');
    assert.match(body.errors[0]?.message ?? '', /pull-through cache of http:\/\/127\.0\.0\.1:\d+ \(upstream "hub"\)/);
    const put = await fetch(`${mirror.url}/v2/hub/team/app/manifests/x`, { method: 'PUT', body: img.manifest.body, headers: { 'content-type': img.manifest.mediaType } });
    assert.equal(put.status, 405);
    const del = await fetch(`${mirror.url}/v2/hub/team/app/manifests/${app.manifest.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 405);
    const ns = await fetch(`${mirror.url}/v2/alpine/blobs/uploads/?ns=docker.io`, { method: 'POST' });
    assert.equal(ns.status, 405);
  });

  it('forwards tag lists to the upstream', async () => {
    assert.equal(await pushWith(up.url, 'team/app', 'v2', image(), ALICE), 201);
    const res = await fetch(`${mirror.url}/v2/hub/team/app/tags/list`);
    assert.deepEqual(await res.json(), { name: 'hub/team/app', tags: ['v1', 'v2'] });
  });

  it('fetches the children of an index when a client asks for them, each once', async () => {
    const [amd, arm] = [image(), image()];
    assert.equal(await pushWith(up.url, 'team/multi', 'amd', amd, ALICE), 201);
    assert.equal(await pushWith(up.url, 'team/multi', 'arm', arm, ALICE), 201);
    const index = indexManifest([amd.manifest, arm.manifest]);
    assert.equal(await putManifest(up.url, 'team/multi', 'v1', index, ALICE), 201);
    hubProxy.reset();
    const top = await pull(mirror.url, 'hub/team/multi', 'v1');
    assert.deepEqual([top.status, top.digest, top.cache], [200, index.digest, ['miss']]);
    assert.equal(hubProxy.count('GET', MANIFEST), 1, 'no child fetched with the index');
    const child = await pull(mirror.url, 'hub/team/multi', arm.manifest.digest);
    assert.deepEqual([child.digest, child.cache], [arm.manifest.digest, ['miss', 'miss', 'miss']]);
    assert.deepEqual((await pull(mirror.url, 'hub/team/multi', arm.manifest.digest)).cache, ['hit', 'hit', 'hit']);
    assert.equal(hubProxy.count('GET', MANIFEST), 2);
  });

  it('forwards referrers to the upstream', async () => {
    const sbom = artifact(app.manifest, 'application/spdx+json', blob('{"spdx":true}'));
    const layer = blob('{"spdx":true}');
    for (const b of [layer, blob('{}')]) {
      const res = await fetch(`${up.url}/v2/team/app/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.data, headers: { authorization: ALICE } });
      assert.equal(res.status, 201);
    }
    assert.equal(await putManifest(up.url, 'team/app', sbom.digest, sbom, ALICE), 201);
    const res = await fetch(`${mirror.url}/v2/hub/team/app/referrers/${app.manifest.digest}`);
    const doc = await res.json() as { manifests: Array<{ digest: string; artifactType: string }> };
    assert.deepEqual(doc.manifests.map((m) => [m.digest, m.artifactType]), [[sbom.digest, 'application/spdx+json']]);
  });

  it('counts hits, misses and bytes per upstream in its metrics', async () => {
    const text = await mirror.server.observability.metrics!.render();
    assert.match(text, /registry_proxy_hits_total\{upstream="hub",kind="blob"\} [1-9]/);
    assert.match(text, /registry_proxy_misses_total\{upstream="hub",kind="manifest"\} [1-9]/);
    assert.match(text, /registry_proxy_upstream_bytes_total\{upstream="hub"\} [1-9]/);
    assert.match(text, /registry_proxy_served_bytes_total\{upstream="hub"\} [1-9]/);
  });

  it('keeps the same counts in the metadata database, shown as totals by /api/v1/upstreams', async () => {
    const metric = (text: string, name: string, labels: string) => [...text.matchAll(new RegExp(`^${name}\\{${labels}\\} (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    type Totals = { hits: { manifest: number; blob: number }; misses: { manifest: number; blob: number }; servedBytes: number; upstreamBytes: number };
    const flat = (t: Totals | undefined) => t && { hits: t.hits.manifest + t.hits.blob, misses: t.misses.manifest + t.misses.blob, servedBytes: t.servedBytes, fetchedBytes: t.upstreamBytes };
    let hub: ReturnType<typeof flat>;
    let expected: Record<string, number> = {};
    // Counts are written every 2 s: wait until the database has caught up with the metrics.
    for (let i = 0; i < 50; i++) {
      const text = await mirror.server.observability.metrics!.render();
      expected = {
        hits: metric(text, 'registry_proxy_hits_total', 'upstream="hub",kind="[a-z]+"'),
        misses: metric(text, 'registry_proxy_misses_total', 'upstream="hub",kind="[a-z]+"'),
        servedBytes: metric(text, 'registry_proxy_served_bytes_total', 'upstream="hub"'),
        fetchedBytes: metric(text, 'registry_proxy_upstream_bytes_total', 'upstream="hub"'),
      };
      const res = await fetch(`${mirror.url}/api/v1/upstreams`);
      assert.equal(res.status, 200);
      hub = flat(((await res.json()) as { items: Array<{ name: string; totals: Totals }> }).items.find((u) => u.name === 'hub')?.totals);
      if (hub && Object.entries(expected).every(([k, v]) => hub![k as keyof typeof hub] === v)) break;
      await sleep(200);
    }
    assert.ok(expected.hits! > 0 && expected.servedBytes! > 0);
    assert.deepEqual(hub, expected);
  });

  it('keeps bookkeeping rows: local names, kinds, sizes, and the tags it validated', async () => {
    const meta = mirror.server.proxy!.db;
    const rows = await meta.selectFrom('proxy_cache_entries').selectAll().where('repository', '=', 'hub/library/alpine').execute();
    const kinds = rows.map((r) => `${r.kind}:${r.digest}:${Number(r.size)}`).sort();
    assert.deepEqual(kinds, [
      `blob:${alpine.config.digest}:${alpine.config.size}`, `blob:${alpine.layer.digest}:${alpine.layer.size}`, `manifest:${alpine.manifest.digest}:${alpine.manifest.body.length}`,
    ].sort());
    assert.ok(rows.every((r) => r.upstream === 'hub' && Number(r.last_pulled_at) >= Number(r.fetched_at)));
    const tags = await meta.selectFrom('proxy_cache_tags').selectAll().where('repository', '=', 'hub/library/alpine').execute();
    assert.deepEqual(tags.map((t) => [t.tag, t.digest]), [['3', alpine.manifest.digest]]);
  });

  describe('when the upstream fails', () => {
    const cached = image();
    before(async () => {
      assert.equal(await pushWith(up.url, 'team/cached', 'v1', cached, ALICE), 201);
      assert.equal((await pull(mirror.url, 'flaky/team/cached', 'v1')).cache[0], 'miss');
      await sleep(1100);
    });

    it('serves the cached copy as stale while the upstream is down', async () => {
      flakyProxy.mode = 'down';
      flakyProxy.reset();
      const res = await pull(mirror.url, 'flaky/team/cached', 'v1');
      assert.equal(res.status, 200);
      assert.equal(res.digest, cached.manifest.digest);
      assert.deepEqual(res.cache, ['stale', 'hit', 'hit']);
      assert.equal(res.warning, '110 - "Response is Stale"');
      assert.equal(flakyProxy.count('HEAD', MANIFEST), 1);
    });

    it('answers an uncached pull with a 502 naming the upstream when it times out (no hang)', async () => {
      flakyProxy.mode = 'hang';
      const res = await fetch(`${mirror.url}/v2/flaky/team/app/manifests/v1`);
      const body = await res.json() as { errors: Array<{ code: string; message: string; detail: { upstream: string; reason: string } }> };
      assert.equal(res.status, 502);
      assert.equal(body.errors[0]?.code, 'UNAVAILABLE');
      assert.deepEqual(body.errors[0]?.detail, { upstream: 'flaky', reason: 'timeout' });
      assert.match(body.errors[0]?.message ?? '', /upstream "flaky" \(http:\/\/127\.0\.0\.1:\d+\) did not answer in time/);
    });

    it('opens the circuit breaker after 3 failures: the upstream sees no 4th attempt, clients get 503 with Retry-After', async () => {
      // The stale HEAD and the timeout above were failures 1 and 2.
      flakyProxy.mode = 'ratelimit';
      flakyProxy.reset();
      const third = await fetch(`${mirror.url}/v2/flaky/team/other/manifests/v1`);
      assert.equal(third.status, 502);
      assert.equal(((await third.json()) as { errors: Array<{ detail: { reason: string } }> }).errors[0]?.detail.reason, 'ratelimited');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${mirror.url}/v2/flaky/team/other${i}/manifests/v1`);
        statuses.push(res.status);
        if (i === 0) {
          assert.ok(Number(res.headers.get('retry-after')) > 0);
          assert.match(((await res.json()) as { errors: Array<{ message: string }> }).errors[0]?.message ?? '', /circuit breaker open/);
        } else {
          await res.arrayBuffer();
        }
      }
      assert.deepEqual(statuses, [503, 503, 503, 503]);
      assert.equal(flakyProxy.seen.length, 1);
      // The cached copy is still served (stale) while the breaker is open.
      const res = await pull(mirror.url, 'flaky/team/cached', 'v1');
      assert.equal(res.status, 200);
      assert.equal(res.cache[0], 'stale');
      // Tag lists: the cached one (stale), or the upstream's failure when nothing is cached.
      const tags = await fetch(`${mirror.url}/v2/flaky/team/cached/tags/list`);
      assert.deepEqual([tags.status, tags.headers.get('x-berth-cache'), await tags.json()], [200, 'stale', { name: 'flaky/team/cached', tags: ['v1'] }]);
      const none = await fetch(`${mirror.url}/v2/flaky/team/never/tags/list`);
      assert.equal(none.status, 503);
      await none.arrayBuffer();
      assert.equal(flakyProxy.seen.length, 1);
    });
  });
});

async function putManifest(base: string, name: string, ref: string, m: Manifest, authorization: string): Promise<number> {
  const res = await fetch(`${base}/v2/${name}/manifests/${ref}`, { method: 'PUT', body: m.body, headers: { 'content-type': m.mediaType, authorization } });
  await res.arrayBuffer();
  return res.status;
}
