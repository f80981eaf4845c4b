// /healthz and /readyz: readiness follows the storage, the configured Distribution checks and
// the disk threshold, and answers 503 naming the failing check.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { startTestRegistry } from '../support/registry-server.js';
import { ready, until } from './readiness.js';

describe('health endpoints', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('/healthz answers 200 while the process runs', async () => {
    const reg = await startTestRegistry();
    cleanup.push(() => reg.close());
    const res = await fetch(`${reg.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('/readyz goes 503 naming storage when the storage directory stops being writable, and 200 after', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'berth-ready-'));
    const root = join(parent, 'data');
    await mkdir(root);
    const reg = await startTestRegistry({ root });
    cleanup.push(async () => { await reg.close(); await rm(parent, { recursive: true, force: true }); });
    const healthy = await ready(reg);
    assert.equal(healthy.status, 200, JSON.stringify(healthy.body));
    assert.deepEqual(healthy.body.failing, []);
    assert.equal(healthy.body.checks.storage?.status, 'ok');
    assert.equal(healthy.body.checks.disk?.status, 'ok');

    // Tests run as root, so chmod cannot take write access away: the directory becomes a file.
    await rename(root, `${root}.away`);
    await writeFile(root, 'not a directory');
    const broken = await ready(reg);
    assert.equal(broken.status, 503);
    assert.equal(broken.body.status, 'unavailable');
    assert.deepEqual(broken.body.failing, ['storage']);
    assert.match(broken.body.checks.storage?.error ?? '', /\S/);

    await rm(root);
    await rename(`${root}.away`, root);
    const back = await ready(reg);
    assert.equal(back.status, 200, JSON.stringify(back.body));
  });

  it('/readyz checks the metadata database when one is open, and goes 503 naming it when it is gone', async () => {
    const reg = await startTestRegistry({
      storage: 'filesystem',
      configure: (c) => {
        c.notifications.endpoints = [{
          name: 'nowhere', disabled: false, url: 'http://127.0.0.1:9/events', headers: {}, timeout: '1s', threshold: 1, backoff: '1s',
          ignoredmediatypes: [], ignore: { mediatypes: [], actions: [] }, maxbackoff: '1s', maxattempts: 0, batchsize: 10,
        }];
      },
    });
    cleanup.push(() => reg.close().catch(() => undefined));
    const ok = await ready(reg);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.checks.metadata?.status, 'ok');
    await reg.server.observability.meta!.close();
    const gone = await ready(reg);
    assert.equal(gone.status, 503);
    assert.deepEqual(gone.body.failing, ['metadata']);
  });

  it('/readyz goes 503 naming the disk when free space is below health.disk.minfreebytes', async () => {
    const reg = await startTestRegistry({ storage: 'filesystem', configure: (c) => { c.health.disk.minfreebytes = Number.MAX_SAFE_INTEGER; } });
    cleanup.push(() => reg.close());
    const r = await ready(reg);
    assert.equal(r.status, 503);
    assert.deepEqual(r.body.failing, ['disk']);
  });

  it('reports Distribution\'s health.http and health.file checks, on /readyz and on the debug listener\'s /debug/health', async () => {
    let answer = 500;
    const upstream = createServer((_req, res) => { res.statusCode = answer; res.end(); });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => upstream.close(() => r())));
    const port = (upstream.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), 'berth-health-file-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const drain = join(dir, 'drain');
    const { freePort } = await import('../e2e/support/env.js');
    const debugPort = await freePort();
    const uri = `http://127.0.0.1:${port}/up`;
    const reg = await startTestRegistry({
      env: { REGISTRY_HTTP_DEBUG_ADDR: `127.0.0.1:${debugPort}` },
      configure: (c) => {
        c.health.http = [{ uri, headers: {}, statuscode: 200, timeout: '1s', interval: '50ms', threshold: 2 }];
        c.health.file = [{ file: drain, interval: '50ms' }];
      },
    });
    cleanup.push(() => reg.close());
    const failing = await until(() => ready(reg), (r) => r.status === 503);
    assert.deepEqual(failing.body.failing, [`http:${uri}`]);
    const debugHealth = await fetch(`http://127.0.0.1:${debugPort}/debug/health`);
    assert.equal(debugHealth.status, 503);
    assert.match(JSON.stringify(await debugHealth.json()), /answered 500, expected 200/);

    answer = 200;
    assert.equal((await until(() => ready(reg), (r) => r.status === 200)).status, 200);
    await writeFile(drain, '');
    const drained = await until(() => ready(reg), (r) => r.status === 503);
    assert.deepEqual(drained.body.failing, [`file:${drain}`]);
  });
});
