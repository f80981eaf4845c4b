// A caching reverse proxy in front (nginx proxy_cache, configured as many guides do: cache every
// 200 for ten minutes, key on the URL) must never hand a blob fetched with credentials to an
// anonymous client, nor serve a tag that moved. Berth's Cache-Control decides what it keeps.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { basic, image, PASSWORD, pushWith, seed, startAuthRegistry, type AuthRegistry } from './support.js';
import { freePort, removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { startNginx, type NginxProcess } from '../e2e/support/nginx-process.js';
import { makeTestCa } from '../e2e/support/test-ca.js';

const gate = requireClients('nginx', 'openssl');

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

describe('behind a caching nginx', { skip: gate.skip }, () => {
  let reg: AuthRegistry;
  let nginx: NginxProcess;
  let work: string;
  let ca: Buffer;
  let port: number;
  const get = (path: string, authorization?: string): Promise<Answer> => new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca, servername: 'localhost', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json', ...(authorization ? { Authorization: authorization } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });

  before(async () => {
    gate.assertPresent();
    reg = await startAuthRegistry('basic');
    await seed(reg.store);
    work = await tempDir('cache-nginx');
    const testCa = await makeTestCa(work);
    ca = await readFile(testCa.caCert);
    port = await freePort();
    nginx = await startNginx({
      dir: join(work, 'nginx'), cert: testCa.serverCert, key: testCa.serverKey, ca: testCa.caCert,
      servers: [{
        port, upstream: reg.host, headers: [['Host', '$http_host'], ['X-Forwarded-Proto', '$scheme']],
        directives: ['proxy_cache berth', 'proxy_cache_valid 200 10m', 'proxy_cache_key $scheme$host$request_uri', 'add_header X-Cache $upstream_cache_status'],
      }],
    });
  });
  after(async () => {
    await nginx?.stop();
    await reg?.close();
    await removeDir(work);
  });

  it('does not hand a private blob, fetched with credentials, to an anonymous client', async () => {
    const img = image();
    assert.equal(await pushWith(reg.url, 'team/app', 'v1', img, basic('bob', PASSWORD)), 201);
    const path = `/v2/team/app/blobs/${img.layer.digest}`;
    const bob = await get(path, basic('bob', PASSWORD));
    assert.equal(bob.status, 200);
    assert.match(String(bob.headers['cache-control']), /^private\b/);
    const anonymous = await get(path);
    assert.equal(anonymous.status, 401, `an anonymous client got ${anonymous.status} (X-Cache: ${String(anonymous.headers['x-cache'])})`);
  });

  it('lets the cache keep public content fetched without credentials', async () => {
    const img = image();
    assert.equal(await pushWith(reg.url, 'pub/app', 'v1', img, basic('bob', PASSWORD)), 201);
    const path = `/v2/pub/app/blobs/${img.layer.digest}`;
    assert.equal((await get(path)).status, 200);
    const again = await get(path);
    assert.equal(again.status, 200);
    assert.equal(again.headers['x-cache'], 'HIT');
    assert.deepEqual(again.body, img.layer.data);
  });

  it('never serves a tag that moved', async () => {
    const first = image();
    const second = image();
    assert.equal(await pushWith(reg.url, 'pub/moving', 'latest', first, basic('bob', PASSWORD)), 201);
    const before = await get('/v2/pub/moving/manifests/latest');
    assert.equal(before.headers['docker-content-digest'], first.manifest.digest);
    assert.equal(await pushWith(reg.url, 'pub/moving', 'latest', second, basic('bob', PASSWORD)), 201);
    const after = await get('/v2/pub/moving/manifests/latest');
    assert.equal(after.headers['docker-content-digest'], second.manifest.digest, `stale tag (X-Cache: ${String(after.headers['x-cache'])})`);
  });
});
