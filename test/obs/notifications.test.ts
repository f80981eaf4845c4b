// Webhooks in Distribution's envelope: one event per push and pull, with repository, tag,
// digest, size, actor and source, and the endpoint's filters applied.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';
import type { ConfigInput as Config } from '../../src/config/schema.js';

type EndpointConfig = Config['notifications']['endpoints'][number];

function endpoint(url: string, extra: Partial<EndpointConfig> = {}): EndpointConfig {
  return {
    name: 'hook', disabled: false, url, headers: { Authorization: ['Bearer hook-secret'] }, timeout: '2s', threshold: 3, backoff: '50ms',
    ignoredmediatypes: [], ignore: { mediatypes: [], actions: [] }, maxbackoff: '200ms', maxattempts: 0, batchsize: 50, ...extra,
  };
}

describe('notifications', () => {
  let receiver: Receiver;
  let reg: TestRegistry;
  before(async () => {
    receiver = await startReceiver();
    reg = await startTestRegistry({ configure: (c) => { c.notifications.endpoints = [endpoint(receiver.url)]; } });
  });
  after(async () => {
    await reg?.close();
    await receiver?.close();
  });

  it('sends one event per push and pull, in Distribution\'s envelope', async () => {
    const config = blob('{"architecture":"amd64","os":"linux"}');
    const layer = randomBlob(2048);
    const m = imageManifest(config, [layer]);
    await pushImage(reg.url, 'hooks/app', 'v1', config, [layer], m);
    const got = await fetch(`${reg.url}/v2/hooks/app/manifests/v1`, { headers: { Accept: m.mediaType, 'User-Agent': 'hook-test/1.0' } });
    assert.equal(got.status, 200);
    await got.arrayBuffer();
    const head = await fetch(`${reg.url}/v2/hooks/app/manifests/v1`, { method: 'HEAD', headers: { Accept: m.mediaType } });
    assert.equal(head.status, 200);
    const pulled = await fetch(`${reg.url}/v2/hooks/app/blobs/${layer.digest}`);
    await pulled.arrayBuffer();

    const events = await receiver.waitFor(6);
    await new Promise((r) => setTimeout(r, 300));
    const summary = receiver.events.map((e) => `${e.action} ${e.target.digest} ${e.target.tag ?? ''} ${e.request.method}`.trim());
    // Debian's docker-registry (Distribution 2.8) sends a pull for a manifest HEAD as well,
    // with request.method HEAD (checked against it with the same requests).
    assert.deepEqual(summary, [
      `push ${config.digest}  POST`,
      `push ${layer.digest}  POST`,
      `push ${m.digest} v1 PUT`,
      `pull ${m.digest} v1 GET`,
      `pull ${m.digest} v1 HEAD`,
      `pull ${layer.digest}  GET`,
    ]);
    const [pushConfig, pushLayer, pushManifest, pullManifest, , pullLayer] = events;
    assert.deepEqual(pushLayer!.target, {
      mediaType: 'application/octet-stream', size: 2048, length: 2048, digest: layer.digest, repository: 'hooks/app',
      url: `${reg.url}/v2/hooks/app/blobs/${layer.digest}`,
    });
    assert.equal(pushConfig!.target.size, config.size);
    assert.equal(pushManifest!.target.mediaType, m.mediaType);
    assert.equal(pushManifest!.target.size, m.body.length);
    assert.equal(pushManifest!.target.repository, 'hooks/app');
    assert.equal(pushManifest!.request.method, 'PUT');
    assert.equal(pullManifest!.request.useragent, 'hook-test/1.0');
    assert.equal(pullManifest!.request.id, got.headers.get('x-request-id'));
    assert.equal(pullManifest!.target.size, m.body.length);
    assert.equal(pullLayer!.target.size, 2048);
    assert.equal(pullLayer!.request.method, 'GET');
    const instance = reg.server.observability.instanceId;
    for (const e of events) {
      assert.deepEqual(e.actor, {}, 'no user without auth');
      assert.equal(e.source.instanceID, instance);
      assert.match(e.source.addr, /:0$|:\d+$/);
      assert.match(e.id, /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(e.timestamp)));
      assert.match(e.request.addr, /^127\.0\.0\.1:\d+$/);
    }
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'every event has its own id');
    assert.ok(receiver.requests.every((r) => r.contentType === 'application/vnd.docker.distribution.events.v1+json'));
    assert.ok(receiver.requests.every((r) => r.headers.authorization === 'Bearer hook-secret'), 'configured headers are sent');
  });

  it('reports mounts and deletes', async () => {
    receiver.events.length = 0;
    const b = randomBlob(512);
    const up = await fetch(`${reg.url}/v2/hooks/src/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.data });
    assert.equal(up.status, 201);
    const mount = await fetch(`${reg.url}/v2/hooks/dst/blobs/uploads/?mount=${b.digest}&from=hooks/src`, { method: 'POST' });
    assert.equal(mount.status, 201);
    const del = await fetch(`${reg.url}/v2/hooks/dst/blobs/${b.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    await receiver.waitFor(3);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(receiver.events.map((e) => [e.action, e.target.repository, e.target.digest]), [
      ['push', 'hooks/src', b.digest], ['mount', 'hooks/dst', b.digest], ['delete', 'hooks/dst', b.digest],
    ]);
    assert.equal(receiver.events[1]!.target.fromRepository, 'hooks/src');
  });
});

describe('notification filters', () => {
  it('leaves out ignored actions and media types, and disabled endpoints', async () => {
    const receiver = await startReceiver();
    const off = await startReceiver();
    const reg = await startTestRegistry({
      configure: (c) => {
        c.notifications.endpoints = [
          endpoint(receiver.url, { ignore: { actions: ['pull'], mediatypes: [] }, ignoredmediatypes: ['application/octet-stream'] }),
          endpoint(off.url, { name: 'off', disabled: true }),
        ];
      },
    });
    try {
      const config = blob('{"filters":true}');
      const layer = randomBlob(100);
      const m = imageManifest(config, [layer]);
      await pushImage(reg.url, 'filters/app', 'v1', config, [layer], m);
      await (await fetch(`${reg.url}/v2/filters/app/manifests/v1`, { headers: { Accept: m.mediaType } })).arrayBuffer();
      await receiver.waitFor(1);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(receiver.events.map((e) => `${e.action} ${e.target.digest}`), [`push ${m.digest}`]);
      assert.equal(off.events.length, 0);
    } finally {
      await reg.close();
      await receiver.close();
      await off.close();
    }
  });
});
