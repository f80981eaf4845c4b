// Robustness of the real `berth serve` binary: an upload that outlives a crash of the server,
// a client that vanishes mid-chunk, twenty clients pushing the same blob at once, and a 1 GiB
// blob pushed and pulled with bounded server memory (peak RSS from /proc), plus a Range read
// from its middle.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from './support/berth-process.js';
import { removeDir, tempDir } from './support/env.js';
import { hashedGet, partialRequest, PatternBlob, streamRequest } from './support/http.js';
import { blob, type Blob } from '../support/oci-fixtures.js';
import { filesUnder, locationPath } from '../support/api-table.js';

const MiB = 1024 * 1024;

async function startUpload(base: string, name: string): Promise<string> {
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  await res.arrayBuffer();
  assert.equal(res.status, 202, 'POST upload');
  return locationPath(res.headers.get('location'));
}

async function patchChunk(base: string, path: string, data: Buffer, start: number): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'PATCH', body: data,
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${start + data.length - 1}` },
  });
}

function withDigest(path: string, digest: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

async function uploadRange(base: string, path: string): Promise<string | null> {
  const res = await fetch(`${base}${path}`);
  await res.arrayBuffer();
  assert.equal(res.status, 204, 'GET upload status');
  return res.headers.get('range');
}

async function getBlob(base: string, name: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${base}/v2/${name}/blobs/${digest}`);
  assert.equal(res.status, 200, `GET blob ${digest}`);
  return Buffer.from(await res.arrayBuffer());
}

async function headStatus(url: string): Promise<number> {
  const res = await fetch(url, { method: 'HEAD' });
  await res.arrayBuffer();
  return res.status;
}

function uploadsDir(root: string, name: string): string {
  return join(root, 'docker/registry/v2/repositories', name, '_uploads');
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('an upload survives a restart of the server', () => {
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  before(async () => { work = await tempDir('restart'); });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('continues with Content-Range after SIGKILL and a restart on the same directory', async () => {
    const root = join(work!, 'storage');
    const data = blob(randomBytes(8 * MiB));
    const half = 3 * MiB + 12345;
    berth = await startBerth({ root });
    const path = await startUpload(berth.url, 'robust/restart');
    const first = await patchChunk(berth.url, path, data.data.subarray(0, half), 0);
    await first.arrayBuffer();
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('range'), `0-${half - 1}`);

    await berth.stop('SIGKILL');
    berth = await startBerth({ root });

    assert.equal(await uploadRange(berth.url, path), `0-${half - 1}`, 'the session kept its bytes');
    const rest = await patchChunk(berth.url, path, data.data.subarray(half), half);
    await rest.arrayBuffer();
    assert.equal(rest.status, 202, 'second chunk after restart');
    assert.equal(rest.headers.get('range'), `0-${data.size - 1}`);
    const put = await fetch(`${berth.url}${withDigest(path, data.digest)}`, { method: 'PUT' });
    await put.arrayBuffer();
    assert.equal(put.status, 201, 'PUT ?digest= after restart');
    assert.equal(put.headers.get('docker-content-digest'), data.digest);
    assert.deepEqual(await getBlob(berth.url, 'robust/restart', data.digest), data.data);
    assert.deepEqual(await readdir(uploadsDir(root, 'robust/restart')).catch(() => []), [], 'no session left behind');
  });
});

describe('a client that disconnects mid-upload', () => {
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  before(async () => {
    work = await tempDir('disconnect');
    berth = await startBerth({ root: join(work, 'storage') });
  });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('leaves nothing visible, and the upload continues from the last complete chunk', async (t) => {
    const url = berth!.url;
    const name = 'robust/disconnect';
    const data = blob(randomBytes(17 * MiB));
    const chunk1 = MiB;
    const path = await startUpload(url, name);
    const first = await patchChunk(url, path, data.data.subarray(0, chunk1), 0);
    await first.arrayBuffer();
    assert.equal(first.status, 202);

    // A second chunk that announces 16 MiB, sends 4 MiB, and vanishes.
    const declared = data.size - chunk1;
    const head = [
      `PATCH ${path} HTTP/1.1`, `Host: ${berth!.host}`, 'Content-Type: application/octet-stream',
      `Content-Length: ${declared}`, `Content-Range: ${chunk1}-${data.size - 1}`, '', '',
    ].join('\r\n');
    const socket = await partialRequest(url, head, data.data.subarray(chunk1, chunk1 + 4 * MiB));
    // Give the server the chance to take in part of the body before the client goes.
    let inFlight: string | null = null;
    for (let i = 0; i < 50; i++) {
      inFlight = await uploadRange(url, path);
      if (inFlight !== `0-${chunk1 - 1}`) break;
      await sleep(20);
    }
    socket.destroy();
    t.diagnostic(`upload Range while the cut chunk was streaming: ${inFlight}`);

    // Nothing of the cut chunk may remain: wait (bounded) for the server to settle at chunk 1.
    let range: string | null = null;
    for (let i = 0; i < 200; i++) {
      range = await uploadRange(url, path);
      if (range === `0-${chunk1 - 1}`) break;
      await sleep(50);
    }
    assert.equal(range, `0-${chunk1 - 1}`, 'the upload reports only the last complete chunk');
    await sleep(300);
    assert.equal(await uploadRange(url, path), `0-${chunk1 - 1}`, 'and stays there');
    const id = path.split('?')[0]!.split('/').pop()!;
    const sessionDir = join(uploadsDir(berth!.root, name), id);
    assert.deepEqual((await readdir(sessionDir)).sort(), ['data', 'startedat']);
    assert.equal((await stat(join(sessionDir, 'data'))).size, chunk1, 'upload data cut back to the last complete chunk');
    assert.equal(await headStatus(`${url}/v2/${name}/blobs/${data.digest}`), 404, 'blob HEAD');
    assert.deepEqual(await filesUnder(join(berth!.root, 'docker/registry/v2/blobs')), [], 'no blob data exists');

    // The same client (or another) continues where the session stands.
    const rest = await patchChunk(url, path, data.data.subarray(chunk1), chunk1);
    await rest.arrayBuffer();
    assert.equal(rest.status, 202, 'continuation PATCH');
    assert.equal(rest.headers.get('range'), `0-${data.size - 1}`);
    const put = await fetch(`${url}${withDigest(path, data.digest)}`, { method: 'PUT' });
    await put.arrayBuffer();
    assert.equal(put.status, 201);
    assert.deepEqual(await getBlob(url, name, data.digest), data.data);
  });
});

describe('a client that disconnects mid-way through the final PUT with a last chunk', () => {
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  before(async () => {
    work = await tempDir('disconnect-put');
    berth = await startBerth({ root: join(work, 'storage') });
  });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('keeps the session at its last chunk, with no blob, and the PUT can be retried', async () => {
    const url = berth!.url;
    const name = 'robust/final-put';
    const data = blob(randomBytes(10 * MiB));
    const chunk1 = 2 * MiB;
    const path = await startUpload(url, name);
    const first = await patchChunk(url, path, data.data.subarray(0, chunk1), 0);
    await first.arrayBuffer();
    assert.equal(first.status, 202);
    const head = [
      `PUT ${withDigest(path, data.digest)} HTTP/1.1`, `Host: ${berth!.host}`, 'Content-Type: application/octet-stream',
      `Content-Length: ${data.size - chunk1}`, `Content-Range: ${chunk1}-${data.size - 1}`, '', '',
    ].join('\r\n');
    const socket = await partialRequest(url, head, data.data.subarray(chunk1, chunk1 + 3 * MiB));
    for (let i = 0; i < 50 && (await uploadRange(url, path)) === `0-${chunk1 - 1}`; i++) await sleep(20);
    socket.destroy();
    let range: string | null = null;
    for (let i = 0; i < 200; i++) {
      range = await uploadRange(url, path);
      if (range === `0-${chunk1 - 1}`) break;
      await sleep(50);
    }
    assert.equal(range, `0-${chunk1 - 1}`, 'the session is back at its last complete chunk');
    assert.equal(await headStatus(`${url}/v2/${name}/blobs/${data.digest}`), 404, 'blob HEAD');
    assert.deepEqual(await filesUnder(join(berth!.root, 'docker/registry/v2/blobs')), [], 'no blob data exists');
    const retry = await fetch(`${url}${withDigest(path, data.digest)}`, {
      method: 'PUT', body: data.data.subarray(chunk1),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${chunk1}-${data.size - 1}` },
    });
    await retry.arrayBuffer();
    assert.equal(retry.status, 201, 'the retried PUT completes the upload');
    assert.deepEqual(await getBlob(url, name, data.digest), data.data);
  });
});

describe('SIGTERM while a chunk is streaming in', () => {
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  before(async () => { work = await tempDir('drain'); });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('finishes the in-flight chunk, exits 0, and the upload completes after a restart', async () => {
    const root = join(work!, 'storage');
    berth = await startBerth({ root });
    const data = blob(randomBytes(6 * MiB));
    const path = await startUpload(berth.url, 'robust/drain');
    const head = [
      `PATCH ${path} HTTP/1.1`, `Host: ${berth.host}`, 'Content-Type: application/octet-stream',
      `Content-Length: ${data.size}`, 'Connection: close', '', '',
    ].join('\r\n');
    const socket = await partialRequest(berth.url, head, data.data.subarray(0, 2 * MiB));
    let response = '';
    socket.on('data', (c: Buffer) => { response += c.toString('latin1'); });
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => berth!.child.once('exit', (code, signal) => resolve([code, signal])));
    // Only a request the server has begun to read is in flight; before that the connection is
    // idle and closing it on SIGTERM is right. So wait until bytes of the chunk have arrived.
    for (let i = 0; i < 200 && (await uploadRange(berth.url, path)) === '0-0'; i++) await sleep(25);
    assert.notEqual(await uploadRange(berth.url, path), '0-0', 'the server has started reading the chunk');
    berth.child.kill('SIGTERM');
    await sleep(200);
    await new Promise<void>((resolve, reject) => socket.write(data.data.subarray(2 * MiB), (err) => (err ? reject(err) : resolve())));
    await ended;
    assert.match(response, /^HTTP\/1\.1 202 /, `in-flight PATCH answered: ${response.slice(0, 200)}`);
    assert.deepEqual(await exited, [0, null], 'the server exits 0 after draining');

    berth = await startBerth({ root });
    assert.equal(await uploadRange(berth.url, path), `0-${data.size - 1}`);
    const put = await fetch(`${berth.url}${withDigest(path, data.digest)}`, { method: 'PUT' });
    await put.arrayBuffer();
    assert.equal(put.status, 201);
    assert.deepEqual(await getBlob(berth.url, 'robust/drain', data.digest), data.data);
  });
});

describe('a client that disconnects mid-way through a monolithic upload', () => {
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  before(async () => {
    work = await tempDir('disconnect-mono');
    berth = await startBerth({ root: join(work, 'storage') });
  });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('leaves no session, no blob and no data behind', async () => {
    const url = berth!.url;
    const name = 'robust/monolithic';
    const data = blob(randomBytes(12 * MiB));
    const head = [
      `POST /v2/${name}/blobs/uploads/?digest=${data.digest} HTTP/1.1`, `Host: ${berth!.host}`,
      'Content-Type: application/octet-stream', `Content-Length: ${data.size}`, '', '',
    ].join('\r\n');
    const socket = await partialRequest(url, head, data.data.subarray(0, 3 * MiB));
    const sessions = uploadsDir(berth!.root, name);
    for (let i = 0; i < 50 && (await readdir(sessions).catch(() => [])).length === 0; i++) await sleep(20);
    socket.destroy();

    let left: string[] = ['?'];
    for (let i = 0; i < 200; i++) {
      left = await readdir(sessions).catch(() => []);
      if (left.length === 0) break;
      await sleep(50);
    }
    assert.deepEqual(left, [], 'the single-request session is removed');
    assert.equal(await headStatus(`${url}/v2/${name}/blobs/${data.digest}`), 404, 'blob HEAD');
    assert.deepEqual(await filesUnder(join(berth!.root, 'docker/registry/v2/blobs')), [], 'no blob data exists');
    // The server is fine afterwards: the same upload in one piece succeeds.
    const again = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${data.digest}`, { method: 'POST', body: data.data });
    await again.arrayBuffer();
    assert.equal(again.status, 201);
    assert.deepEqual(await getBlob(url, name, data.digest), data.data);
  });
});

describe('twenty clients pushing the same blob at once', () => {
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  before(async () => {
    work = await tempDir('concurrent');
    berth = await startBerth({ root: join(work, 'storage') });
  });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('all get 201 and exactly one blob data file exists', async () => {
    const url = berth!.url;
    const name = 'robust/same';
    const data: Blob = blob(randomBytes(3 * MiB + 7));
    const statuses = await Promise.all(Array.from({ length: 20 }, async () => {
      const path = await startUpload(url, name);
      const patch = await fetch(`${url}${path}`, {
        method: 'PATCH', body: data.data, headers: { 'Content-Type': 'application/octet-stream' },
      });
      await patch.arrayBuffer();
      assert.equal(patch.status, 202, 'PATCH');
      const put = await fetch(`${url}${withDigest(locationPath(patch.headers.get('location')), data.digest)}`, { method: 'PUT' });
      await put.arrayBuffer();
      return put.status;
    }));
    assert.deepEqual(statuses, Array(20).fill(201));
    const hex = data.digest.slice('sha256:'.length);
    assert.deepEqual(await filesUnder(join(berth!.root, 'docker/registry/v2/blobs')), [`sha256/${hex.slice(0, 2)}/${hex}/data`]);
    assert.deepEqual(await readdir(uploadsDir(berth!.root, name)).catch(() => []), [], 'no session left behind');
    assert.deepEqual(await getBlob(url, name, data.digest), data.data);
  });
});

describe('a 1 GiB blob through the server', () => {
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  const big = new PatternBlob(randomBytes(MiB), 1024);
  let digest = '';
  const name = 'robust/big';

  before(async () => {
    work = await tempDir('big');
    berth = await startBerth({ root: join(work, 'storage') });
  });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('is pushed and pulled with server memory well below the blob size', { timeout: 240_000 }, async (t) => {
    const url = berth!.url;
    // Warm-up: one small push and pull, so start-up allocations are in the baseline.
    const small = blob(randomBytes(MiB));
    const warm = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${small.digest}`, { method: 'POST', body: small.data });
    await warm.arrayBuffer();
    assert.equal(warm.status, 201);
    assert.deepEqual(await getBlob(url, name, small.digest), small.data);
    const rssStart = await berth!.rss();
    const peakBefore = await berth!.peakRss();

    const path = await startUpload(url, name);
    const hash = createHash('sha256');
    const patch = await streamRequest(`${url}${path}`, 'PATCH', {
      'Content-Type': 'application/octet-stream', 'Content-Length': String(big.size),
    }, big.stream(hash));
    digest = `sha256:${hash.digest('hex')}`;
    assert.equal(patch.status, 202, `PATCH 1 GiB: ${patch.body.toString()}`);
    assert.equal(patch.headers.range, `0-${big.size - 1}`);
    const put = await streamRequest(`${url}${withDigest(locationPath(String(patch.headers.location)), digest)}`, 'PUT', {});
    assert.equal(put.status, 201, `PUT: ${put.body.toString()}`);
    const peakAfterPush = await berth!.peakRss();

    const pulled = await hashedGet(`${url}/v2/${name}/blobs/${digest}`);
    assert.equal(pulled.status, 200);
    assert.equal(pulled.bytes, big.size);
    assert.equal(pulled.digest, digest, 'pulled bytes hash to the pushed digest');
    const peakAfter = await berth!.peakRss();

    const growth = peakAfter - peakBefore;
    t.diagnostic(`server RSS at start ${(rssStart / MiB).toFixed(1)} MiB; peak RSS before ${(peakBefore / MiB).toFixed(1)} MiB, `
      + `after push ${(peakAfterPush / MiB).toFixed(1)} MiB, after pull ${(peakAfter / MiB).toFixed(1)} MiB; growth ${(growth / MiB).toFixed(1)} MiB for a 1024 MiB blob`);
    assert.ok(growth < 150 * MiB, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB moving a 1 GiB blob (limit 150 MiB)`);
  });

  it('serves a Range read from the middle of the large blob', async () => {
    assert.ok(digest, 'needs the blob from the previous test');
    const url = berth!.url;
    const start = 512 * MiB - 1000;
    const end = 513 * MiB + 4321;
    const res = await fetch(`${url}/v2/${name}/blobs/${digest}`, { headers: { Range: `bytes=${start}-${end}` } });
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${big.size}`);
    assert.equal(res.headers.get('content-length'), String(end - start + 1));
    assert.equal(body.length, end - start + 1);
    assert.ok(body.equals(big.range(start, end)), 'range bytes equal the generated bytes');

    const tailStart = big.size - 10;
    const suffix = await fetch(`${url}/v2/${name}/blobs/${digest}`, { headers: { Range: 'bytes=-10' } });
    const suffixBody = Buffer.from(await suffix.arrayBuffer());
    assert.equal(suffix.status, 206);
    assert.equal(suffix.headers.get('content-range'), `bytes ${tailStart}-${big.size - 1}/${big.size}`);
    assert.ok(suffixBody.equals(big.range(tailStart, big.size - 1)), 'suffix range bytes');
  });
});
