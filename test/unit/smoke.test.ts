import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';

describe('a registry started for a test', () => {
  let reg: TestRegistry;
  before(async () => { reg = await startTestRegistry(); });
  after(async () => { await reg.close(); });

  it('answers /v2/ with the API version header', async () => {
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('serves back an image it was given, byte for byte', async () => {
    const config = blob('{"architecture":"amd64"}');
    const layer = blob();
    const m = imageManifest(config, [layer]);
    await pushImage(reg.url, 'smoke/app', 'v1', config, [layer], m);
    const res = await fetch(`${reg.url}/v2/smoke/app/manifests/v1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), m.digest);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), m.body);
    const layerRes = await fetch(`${reg.url}/v2/smoke/app/blobs/${layer.digest}`);
    assert.deepEqual(Buffer.from(await layerRes.arrayBuffer()), layer.data);
  });
});
