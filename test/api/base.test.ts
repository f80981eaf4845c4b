// The base endpoint, unknown endpoints, wrong methods, read-only mode, CORS and configured headers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, OCI_MANIFEST } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import {
  check, filesUnder, UNKNOWN_DIGEST, UNKNOWN_UPLOAD, type Row,
} from '../support/api-table.js';

const config = blob('{"architecture":"amd64","os":"linux"}');
const layer = blob('base layer');
const image = imageManifest(config, [layer]);

// Routing happens before storage is touched; the filesystem driver is covered by the
// read-only suite below and by every other file.
for (const driver of ['memory'] as const) {
  describe(`base endpoint and routing (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      await pushImage(reg.url, 'base/app', 'v1', config, [layer], image);
    });
    after(async () => { await reg.close(); });

    const rows: Row[] = [
      { name: 'GET /v2/ answers 200', call: { method: 'GET', path: '/v2/' }, expect: { status: 200 } },
      { name: 'GET /v2 (no slash) answers 200', call: { method: 'GET', path: '/v2' }, expect: { status: 200 } },
      { name: 'HEAD /v2/ answers 200 without body', call: { method: 'HEAD', path: '/v2/' }, expect: { status: 200 } },
      // Unknown endpoints: 404 with an OCI error body, and still the API version header.
      { name: 'unknown path under /v2/', call: { method: 'GET', path: '/v2/base/app/nothing/here' }, expect: { status: 404, code: 'NOT_FOUND' } },
      { name: 'path outside /v2/', call: { method: 'GET', path: '/metrics' }, expect: { status: 404, code: 'NOT_FOUND' } },
      { name: 'root path', call: { method: 'GET', path: '/' }, expect: { status: 404, code: 'NOT_FOUND' } },
      { name: 'HEAD unknown endpoint has no body', call: { method: 'HEAD', path: '/v2/base/app/nothing' }, expect: { status: 404 } },
      // Wrong method on a known route: 405 UNSUPPORTED with Allow.
      { name: 'POST on a manifest', call: { method: 'POST', path: '/v2/base/app/manifests/v1' }, expect: { status: 405, code: 'UNSUPPORTED', headers: { allow: /PUT/ } } },
      { name: 'PATCH on a manifest', call: { method: 'PATCH', path: '/v2/base/app/manifests/v1' }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'PUT on a blob', call: { method: 'PUT', path: `/v2/base/app/blobs/${layer.digest}` }, expect: { status: 405, code: 'UNSUPPORTED', headers: { allow: /GET/ } } },
      { name: 'POST on a blob', call: { method: 'POST', path: `/v2/base/app/blobs/${layer.digest}` }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'DELETE on tags/list', call: { method: 'DELETE', path: '/v2/base/app/tags/list' }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'PUT on _catalog', call: { method: 'PUT', path: '/v2/_catalog' }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'POST on referrers', call: { method: 'POST', path: `/v2/base/app/referrers/${image.digest}` }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'GET on the upload-start route', call: { method: 'GET', path: '/v2/base/app/blobs/uploads/' }, expect: { status: 405, code: 'UNSUPPORTED', headers: { allow: 'POST' } } },
      { name: 'POST on an upload session', call: { method: 'POST', path: `/v2/base/app/blobs/uploads/${UNKNOWN_UPLOAD}` }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'HEAD on tags/list', call: { method: 'HEAD', path: '/v2/base/app/tags/list' }, expect: { status: 405 } },
      { name: 'POST on /v2/', call: { method: 'POST', path: '/v2/' }, expect: { status: 405, code: 'UNSUPPORTED', headers: { allow: 'GET, HEAD' } } },
      { name: 'DELETE on /v2/', call: { method: 'DELETE', path: '/v2/' }, expect: { status: 405, code: 'UNSUPPORTED' } },
    ];
    for (const row of rows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });

    it('GET /v2/ answers a JSON body', async () => {
      const r = await check(reg.url, { method: 'GET', path: '/v2/' }, { status: 200 });
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(JSON.parse(r.body.toString()), {});
    });
  });
}

describe('read-only mode (filesystem, seeded first in write mode)', () => {
  let reg: TestRegistry;
  let root: string;
  let sessionPath: string;
  before(async () => {
    // Seed in write mode on a filesystem root, then serve that root read-only.
    const seeded = await startTestRegistry({ storage: 'filesystem' });
    root = seeded.root!;
    await pushImage(seeded.url, 'ro/app', 'v1', config, [layer], image);
    const post = await fetch(`${seeded.url}/v2/ro/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(post.status, 202);
    sessionPath = new URL(post.headers.get('location') ?? '', seeded.url).pathname;
    await seeded.server.close(); // keep the root: the read-only registry serves it
    reg = await startTestRegistry({
      root, configure: (c) => { c.storage.maintenance.readonly.enabled = true; },
    });
  });
  after(async () => {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  });

  const reads: Row[] = [
    { name: 'GET manifest by tag', call: { method: 'GET', path: '/v2/ro/app/manifests/v1' }, expect: { status: 200, body: image.body, headers: { 'content-type': OCI_MANIFEST } } },
    { name: 'HEAD manifest by digest', call: { method: 'HEAD', path: `/v2/ro/app/manifests/${image.digest}` }, expect: { status: 200 } },
    { name: 'GET blob', call: { method: 'GET', path: `/v2/ro/app/blobs/${layer.digest}` }, expect: { status: 200, body: layer.data } },
    { name: 'GET tags/list', call: { method: 'GET', path: '/v2/ro/app/tags/list' }, expect: { status: 200, json: { name: 'ro/app', tags: ['v1'] } } },
    { name: 'GET _catalog', call: { method: 'GET', path: '/v2/_catalog' }, expect: { status: 200, json: { repositories: ['ro/app'] } } },
    { name: 'GET referrers', call: { method: 'GET', path: `/v2/ro/app/referrers/${image.digest}` }, expect: { status: 200 } },
  ];
  const writes = (): Row[] => writeRows(sessionPath);

  for (const row of reads) it(`allows ${row.name}`, async () => { await check(reg.url, row.call, row.expect, row.name); });

  it('refuses every write with 405 UNSUPPORTED and changes nothing on disk', async () => {
    const beforeFiles = await filesUnder(root);
    for (const row of writes()) await check(reg.url, row.call, row.expect, row.name);
    assert.deepEqual(await filesUnder(root), beforeFiles);
    // The upload session is still there, untouched.
    await check(reg.url, { method: 'GET', path: sessionPath }, { status: 204, headers: { range: '0-0' } });
  });
});

describe('read-only mode (memory)', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry({ storage: 'memory', configure: (c) => { c.storage.maintenance.readonly.enabled = true; } });
  });
  after(async () => { await reg.close(); });
  for (const row of writeRows(`/v2/ro/app/blobs/uploads/${UNKNOWN_UPLOAD}`)) {
    it(`refuses ${row.name}`, async () => { await check(reg.url, row.call, row.expect, row.name); });
  }
  it('still answers reads', async () => {
    await check(reg.url, { method: 'GET', path: '/v2/' }, { status: 200 });
    await check(reg.url, { method: 'GET', path: '/v2/ro/app/manifests/v1' }, { status: 404, code: 'MANIFEST_UNKNOWN' });
    await check(reg.url, { method: 'GET', path: '/v2/_catalog' }, { status: 200, json: { repositories: [] } });
  });
});

function writeRows(sessionPath: string): Row[] {
  const other = blob('never stored');
  return [
    { name: 'POST upload', call: { method: 'POST', path: '/v2/ro/app/blobs/uploads/' }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'POST monolithic upload', call: { method: 'POST', path: `/v2/ro/app/blobs/uploads/?digest=${other.digest}`, body: other.data }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'POST mount', call: { method: 'POST', path: `/v2/ro/other/blobs/uploads/?mount=${layer.digest}&from=ro/app` }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'PATCH upload', call: { method: 'PATCH', path: sessionPath, body: 'chunk' }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'PUT upload', call: { method: 'PUT', path: `${sessionPath}?digest=${other.digest}`, body: other.data }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'DELETE upload', call: { method: 'DELETE', path: sessionPath }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'PUT manifest', call: { method: 'PUT', path: '/v2/ro/app/manifests/v2', body: image.body, headers: { 'content-type': OCI_MANIFEST } }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'DELETE manifest', call: { method: 'DELETE', path: `/v2/ro/app/manifests/${image.digest}` }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'DELETE tag', call: { method: 'DELETE', path: '/v2/ro/app/manifests/v1' }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'DELETE blob', call: { method: 'DELETE', path: `/v2/ro/app/blobs/${layer.digest}` }, expect: { status: 405, code: 'UNSUPPORTED' } },
    { name: 'DELETE unknown blob', call: { method: 'DELETE', path: `/v2/ro/app/blobs/${UNKNOWN_DIGEST}` }, expect: { status: 405, code: 'UNSUPPORTED' } },
  ];
}

describe('CORS and configured headers', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry({
      configure: (c) => {
        c.http.cors.allowedorigins = ['https://ui.example.com'];
        c.http.cors.maxage = 321;
        c.http.headers = { 'X-Content-Type-Options': ['nosniff'], 'X-Berth-Test': ['a', 'b'] };
      },
    });
    await pushImage(reg.url, 'cors/app', 'v1', config, [layer], image);
  });
  after(async () => { await reg.close(); });

  it('answers an OPTIONS preflight from an allowed origin', async () => {
    const res = await fetch(`${reg.url}/v2/cors/app/manifests/v1`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://ui.example.com', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.ok(res.status === 204 || res.status === 200, `preflight status ${res.status}`);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://ui.example.com');
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /PUT/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /content-type/i);
    assert.equal(res.headers.get('access-control-max-age'), '321');
  });

  it('does not allow a preflight from another origin', async () => {
    const res = await fetch(`${reg.url}/v2/cors/app/manifests/v1`, {
      method: 'OPTIONS', headers: { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'DELETE' },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('marks simple responses for an allowed origin and exposes the registry headers', async () => {
    const r = await check(reg.url, { method: 'GET', path: '/v2/cors/app/manifests/v1', headers: { Origin: 'https://ui.example.com' } }, {
      status: 200, headers: { 'access-control-allow-origin': 'https://ui.example.com', 'docker-content-digest': image.digest },
    });
    const exposed = (r.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    for (const h of ['docker-content-digest', 'location', 'link', 'oci-subject', 'docker-upload-uuid', 'range']) assert.ok(exposed.includes(h), `exposes ${h}: ${exposed}`);
  });

  const headerRows: Row[] = [
    { name: '/v2/', call: { method: 'GET', path: '/v2/' }, expect: { status: 200 } },
    { name: 'a manifest', call: { method: 'GET', path: '/v2/cors/app/manifests/v1' }, expect: { status: 200 } },
    { name: 'a 404 error', call: { method: 'GET', path: '/v2/cors/app/manifests/nope' }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
    { name: 'a 400 error', call: { method: 'GET', path: '/v2/Cors/app/tags/list' }, expect: { status: 400, code: 'NAME_INVALID' } },
    { name: 'an unknown endpoint', call: { method: 'GET', path: '/nowhere' }, expect: { status: 404, code: 'NOT_FOUND' } },
  ];
  for (const row of headerRows) {
    it(`adds http.headers to ${row.name}`, async () => {
      await check(reg.url, row.call, {
        ...row.expect, headers: { 'x-content-type-options': 'nosniff', 'x-berth-test': 'a, b' },
      }, row.name);
    });
  }
});
