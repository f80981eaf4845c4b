// /metrics after known pushes and pulls: every counter moves by exactly what was done, and the
// exposition passes `promtool check metrics`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { requireClients } from '../e2e/support/env.js';
import { delta, scrape, value } from './scrape.js';

function withMetrics(config: { metrics: { mainlistener: boolean } }): void {
  config.metrics.mainlistener = true;
}

describe('metrics on the main listener', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry({ configure: withMetrics });
  });
  after(async () => reg?.close());

  it('counts pushes, pulls, bytes and requests by exactly what was done', async () => {
    const metricsUrl = `${reg.url}/metrics`;
    const { samples: s0 } = await scrape(metricsUrl);
    const layers = [randomBlob(3000), randomBlob(70_000), randomBlob(10)];
    const config = blob('{"architecture":"amd64","os":"linux"}');
    const m = imageManifest(config, layers);
    for (const b of [config, ...layers]) await pushBlob(reg.url, 'team/app', b);
    await pushManifest(reg.url, 'team/app', 'v1', m);
    // Two full blob pulls, one ranged, one miss; one manifest GET and one HEAD.
    for (const b of [layers[0]!, layers[1]!]) assert.equal((await (await fetch(`${reg.url}/v2/team/app/blobs/${b.digest}`)).arrayBuffer()).byteLength, b.size);
    const ranged = await fetch(`${reg.url}/v2/team/app/blobs/${layers[1]!.digest}`, { headers: { Range: 'bytes=0-99' } });
    assert.equal((await ranged.arrayBuffer()).byteLength, 100);
    const miss = await fetch(`${reg.url}/v2/team/app/blobs/sha256:${'0'.repeat(64)}`);
    await miss.arrayBuffer();
    assert.equal(miss.status, 404);
    const got = await fetch(`${reg.url}/v2/team/app/manifests/v1`, { headers: { Accept: m.mediaType } });
    assert.equal((await got.arrayBuffer()).byteLength, m.body.length);
    await (await fetch(`${reg.url}/v2/team/app/manifests/v1`, { method: 'HEAD', headers: { Accept: m.mediaType } })).arrayBuffer();

    const { samples: s1 } = await scrape(metricsUrl);
    const blobBytes = [config, ...layers].reduce((n, b) => n + b.size, 0);
    assert.equal(delta(s0, s1, 'registry_http_requests_total', { handler: 'blob_upload', method: 'POST', code: '201' }), 4);
    assert.equal(delta(s0, s1, 'registry_http_requests_total', { handler: 'manifest', method: 'PUT', code: '201' }), 1);
    assert.equal(delta(s0, s1, 'registry_http_requests_total', { handler: 'blob', method: 'GET', code: '200' }), 2);
    assert.equal(delta(s0, s1, 'registry_http_requests_total', { handler: 'blob', method: 'GET', code: '206' }), 1);
    assert.equal(delta(s0, s1, 'registry_http_requests_total', { handler: 'blob', method: 'GET', code: '404' }), 1);
    assert.equal(delta(s0, s1, 'registry_http_requests_total', { handler: 'manifest', method: 'HEAD', code: '200' }), 1);
    assert.equal(delta(s0, s1, 'registry_http_request_duration_seconds_count', { handler: 'blob', method: 'GET' }), 4);
    assert.equal(delta(s0, s1, 'berth_registry_pushes_total', { kind: 'blob' }), 4);
    assert.equal(delta(s0, s1, 'berth_registry_pushes_total', { kind: 'manifest' }), 1);
    assert.equal(delta(s0, s1, 'berth_registry_pulls_total', { kind: 'blob', outcome: 'success' }), 3);
    assert.equal(delta(s0, s1, 'berth_registry_pulls_total', { kind: 'blob', outcome: 'failure' }), 1);
    assert.equal(delta(s0, s1, 'berth_registry_pulls_total', { kind: 'manifest', outcome: 'success' }), 1);
    assert.equal(value(s1, 'berth_registry_pull_success_ratio'), 4 / 5);
    assert.equal(delta(s0, s1, 'berth_registry_received_bytes_total', { kind: 'blob' }), blobBytes);
    assert.equal(delta(s0, s1, 'berth_registry_received_bytes_total', { kind: 'manifest' }), m.body.length);
    assert.equal(delta(s0, s1, 'berth_registry_sent_bytes_total', { kind: 'blob' }), layers[0]!.size + layers[1]!.size + 100);
    assert.equal(delta(s0, s1, 'berth_registry_sent_bytes_total', { kind: 'manifest' }), m.body.length);
    assert.equal(value(s1, 'berth_storage_repository_bytes', { repository: 'team/app' }), blobBytes + m.body.length);
    assert.equal(value(s1, 'registry_http_in_flight_requests', { handler: 'blob' }), 0);
    assert.ok(delta(s0, s1, 'registry_storage_action_seconds_count', { driver: 'inmemory', action: 'PutContent' }) > 0
      || delta(s0, s1, 'registry_storage_action_seconds_count', { driver: 'memory', action: 'PutContent' }) > 0);
  });

  it('counts a blob pushed again as a push but not as more storage, and mounts add storage', async () => {
    const b = randomBlob(5000);
    await pushBlob(reg.url, 'usage/one', b);
    const { samples: s0 } = await scrape(`${reg.url}/metrics`);
    await pushBlob(reg.url, 'usage/one', b);
    const mount = await fetch(`${reg.url}/v2/usage/two/blobs/uploads/?mount=${b.digest}&from=usage/one`, { method: 'POST' });
    assert.equal(mount.status, 201);
    const { samples: s1 } = await scrape(`${reg.url}/metrics`);
    assert.equal(delta(s0, s1, 'berth_registry_pushes_total', { kind: 'blob' }), 1);
    assert.equal(delta(s0, s1, 'berth_storage_repository_bytes', { repository: 'usage/one' }), 0);
    assert.equal(delta(s0, s1, 'berth_registry_blob_mounts_total'), 1);
    assert.equal(value(s1, 'berth_storage_repository_bytes', { repository: 'usage/two' }), 5000);
    const del = await fetch(`${reg.url}/v2/usage/two/blobs/${b.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    const { samples: s2 } = await scrape(`${reg.url}/metrics`);
    assert.equal(value(s2, 'berth_storage_repository_bytes', { repository: 'usage/two' }), 0);
  });

  it('shows upload sessions in progress until they finish or are cancelled', async () => {
    const { samples: s0 } = await scrape(`${reg.url}/metrics`);
    const started = await fetch(`${reg.url}/v2/sessions/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(started.status, 202);
    const second = await fetch(`${reg.url}/v2/sessions/app/blobs/uploads/`, { method: 'POST' });
    const { samples: s1 } = await scrape(`${reg.url}/metrics`);
    assert.equal(delta(s0, s1, 'berth_registry_upload_sessions'), 2);
    const b = randomBlob(1000);
    const put = await fetch(`${reg.url}${new URL(started.headers.get('location')!, reg.url).pathname}?digest=${b.digest}`, { method: 'PUT', body: b.data });
    assert.equal(put.status, 201);
    const cancel = await fetch(new URL(second.headers.get('location')!, reg.url), { method: 'DELETE' });
    assert.equal(cancel.status, 204);
    const { samples: s2 } = await scrape(`${reg.url}/metrics`);
    assert.equal(delta(s0, s2, 'berth_registry_upload_sessions'), 0);
  });

  const promtool = requireClients('promtool');
  it('passes promtool check metrics', { skip: promtool.skip }, async () => {
    promtool.assertPresent();
    const { text } = await scrape(`${reg.url}/metrics`);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
  });
});

describe('metrics registries', () => {
  it('keeps two servers in one process apart', async () => {
    const a = await startTestRegistry({ configure: withMetrics });
    const b = await startTestRegistry({ configure: withMetrics });
    try {
      await pushBlob(a.url, 'only/a', randomBlob(100));
      const sa = (await scrape(`${a.url}/metrics`)).samples;
      const sb = (await scrape(`${b.url}/metrics`)).samples;
      assert.equal(value(sa, 'berth_registry_pushes_total', { kind: 'blob' }), 1);
      assert.equal(value(sb, 'berth_registry_pushes_total', { kind: 'blob' }), 0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('counts what a repository already held when the server starts (one scan), then keeps counting', async () => {
    const first = await startTestRegistry({ storage: 'filesystem', configure: withMetrics });
    const root = first.root!;
    const layer = randomBlob(12_345);
    await pushBlob(first.url, 'scan/app', layer);
    const second = await startTestRegistry({ root, configure: withMetrics });
    try {
      await pushBlob(second.url, 'scan/app', layer); // already linked: no change
      const extra = randomBlob(55);
      await pushBlob(second.url, 'scan/app', extra);
      const end = Date.now() + 5000;
      let samples = (await scrape(`${second.url}/metrics`)).samples;
      while (value(samples, 'berth_storage_repository_bytes', { repository: 'scan/app' }) !== 12_400 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        samples = (await scrape(`${second.url}/metrics`)).samples;
      }
      assert.equal(value(samples, 'berth_storage_repository_bytes', { repository: 'scan/app' }), 12_400);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('serves /metrics on http.debug.addr only when http.debug.prometheus is enabled, not on the main listener by default', async () => {
    const { freePort } = await import('../e2e/support/env.js');
    const port = await freePort();
    const reg = await startTestRegistry({ env: { REGISTRY_HTTP_DEBUG_ADDR: `127.0.0.1:${port}`, REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED: 'true' } });
    try {
      assert.equal((await fetch(`${reg.url}/metrics`)).status, 404);
      const { samples } = await scrape(`http://127.0.0.1:${port}/metrics`);
      assert.ok(samples.size > 0);
      assert.equal((await fetch(`http://127.0.0.1:${port}/debug/health`)).status, 200);
    } finally {
      await reg.close();
    }
  });
});
