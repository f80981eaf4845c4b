// The filesystem driver's read stream: its fast path into HTTP responses recycles buffers, so these
// check that every response still gets exactly its own bytes, that a consumer keeping the chunks
// gets fresh ones, and that a client going away releases the file.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { FileRangeStream } from '../../src/storage/drivers/filesystem/file-range-stream.js';

const MiB = 1024 * 1024;

describe('FileRangeStream', () => {
  let dir: string;
  let fileA: string;
  let fileB: string;
  const a = randomBytes(2 * MiB + 12345);
  const b = randomBytes(3 * MiB + 7);
  let server: http.Server;
  let base: string;
  const opened: FileRangeStream[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-range-stream-'));
    fileA = join(dir, 'a');
    fileB = join(dir, 'b');
    await writeFile(fileA, a);
    await writeFile(fileB, b);
    // GET /<a|b>?start=&end= pipes that range of the file into the response, as Fastify does.
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const which = url.pathname === '/a' ? { path: fileA, size: a.length } : { path: fileB, size: b.length };
      const start = Number(url.searchParams.get('start') ?? 0);
      const end = Number(url.searchParams.get('end') ?? which.size);
      const stream = new FileRangeStream(which.path, start, end);
      opened.push(stream);
      res.setHeader('Content-Length', end - start);
      stream.pipe(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  // A fresh connection per request (agent: false): no keep-alive race with the server's idle timeout.
  const fetchBytes = async (path: string): Promise<Buffer> => {
    const req = http.get(base + path, { agent: false });
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it('sends a whole file and ranges of it into an HTTP response, byte for byte', async () => {
    assert.deepEqual(await fetchBytes('/a'), a);
    assert.deepEqual(await fetchBytes(`/b?start=${MiB - 3}&end=${3 * MiB + 5}`), b.subarray(MiB - 3, 3 * MiB + 5));
    assert.deepEqual(await fetchBytes('/a?start=10&end=10'), Buffer.alloc(0));
  });

  it('gives concurrent responses their own bytes although they share recycled buffers', async () => {
    const got = await Promise.all(Array.from({ length: 6 }, (_, i) => fetchBytes(i % 2 ? '/a' : '/b')));
    got.forEach((buf, i) => assert.ok(buf.equals(i % 2 ? a : b), `response ${i} differs`));
  });

  it('hands fresh buffers to a consumer that keeps them', async () => {
    const kept: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        kept.push(chunk);
        done();
      },
    });
    const source = new FileRangeStream(fileB, 100, b.length);
    source.pipe(sink);
    await once(sink, 'finish');
    assert.deepEqual(Buffer.concat(kept), b.subarray(100));
  });

  it('releases the file when the client goes away half way', async () => {
    const before = opened.length;
    const req = http.get(`${base}/b`);
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    await once(res, 'data');
    req.destroy();
    const stream = opened[before];
    assert.ok(stream);
    if (!stream.closed) await once(stream, 'close');
    assert.equal(stream.destroyed, true);
  });

  it('fails with the error of a file that cannot be opened', async () => {
    const stream = new FileRangeStream(join(dir, 'missing'), 0, 10);
    await assert.rejects(async () => {
      for await (const _ of stream) { /* drain */ }
    }, (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  });
});
