// The real binary: events wait in the metadata database while the webhook receiver is down,
// survive a crash of Berth, and all arrive exactly once when the receiver returns. SIGTERM lets
// an in-flight upload finish before the process exits.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { freePort, removeDir, tempDir } from '../e2e/support/env.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import { berthOk } from '../support/cli.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

function hooksEnv(port: number): Record<string, string> {
  return {
    REGISTRY_NOTIFICATIONS_ENDPOINTS: `[{name: hook, url: "http://127.0.0.1:${port}/events", timeout: 1s, threshold: 1, backoff: 50ms, maxbackoff: 300ms}]`,
  };
}

describe('events across a restart (real binary)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('loses no event while the receiver is down, even when Berth crashes in between', async () => {
    const root = await tempDir('berth-events-');
    cleanup.push(() => removeDir(root));
    const port = await freePort(); // nothing listens there yet: deliveries are refused
    const first: BerthProcess = await startBerth({ root, env: hooksEnv(port) });
    cleanup.push(() => first.stop('SIGKILL'));
    const config = blob('{"restart":true}');
    const layer = randomBlob(3333);
    const m = imageManifest(config, [layer]);
    await pushImage(first.url, 'restart/app', 'v1', config, [layer], m);
    const pulled = await fetch(`${first.url}/v2/restart/app/blobs/${layer.digest}`);
    assert.equal((await pulled.arrayBuffer()).byteLength, 3333);
    await new Promise((r) => setTimeout(r, 500)); // a few refused attempts
    await first.stop('SIGKILL');

    const second = await startBerth({ root, env: hooksEnv(port) });
    cleanup.push(() => second.stop());
    let receiver: Receiver;
    try {
      receiver = await startReceiver(port);
    } catch (err) {
      throw new Error(`the receiver's port ${port} was taken meanwhile: ${(err as Error).message}`);
    }
    cleanup.push(() => receiver.close());
    const events = await receiver.waitFor(4);
    await new Promise((r) => setTimeout(r, 500)); // nothing more, nothing twice
    assert.deepEqual(events.map((e) => `${e.action} ${e.target.repository} ${e.target.digest} ${e.target.size}${e.target.tag ? ` ${e.target.tag}` : ''}`), [
      `push restart/app ${config.digest} ${config.size}`,
      `push restart/app ${layer.digest} 3333`,
      `push restart/app ${m.digest} ${m.body.length} v1`,
      `pull restart/app ${layer.digest} 3333`,
    ]);
    assert.equal(new Set(events.map((e) => e.source.instanceID)).size, 1, 'all from the first process');
    await second.stop();
    const listed = (await berthOk(['events', 'deadletters'], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root }, 30_000)).stdout;
    assert.match(listed, /no dead letters/);
  });

  it('on SIGTERM finishes an upload in flight before exiting', async () => {
    const root = await tempDir('berth-drain-');
    cleanup.push(() => removeDir(root));
    const b = await startBerth({ root, env: { REGISTRY_HTTP_DRAINTIMEOUT: '20s' } });
    cleanup.push(() => b.stop('SIGKILL'));
    const start = await fetch(`${b.url}/v2/drain/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const location = new URL(start.headers.get('location')!, b.url);
    const data = randomBlob(64 * 1024);
    const answered = new Promise<number>((resolve, reject) => {
      const req = request(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': data.size } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(data.data.subarray(0, 1024));
      // The rest goes after SIGTERM: the request is in flight while the server drains.
      setTimeout(() => {
        b.child.kill('SIGTERM');
        setTimeout(() => req.end(data.data.subarray(1024)), 500);
      }, 300);
    });
    const exited = new Promise<number | null>((resolve) => b.child.once('exit', (code) => resolve(code)));
    assert.equal(await answered, 202);
    assert.equal(await exited, 0);
  });
});
