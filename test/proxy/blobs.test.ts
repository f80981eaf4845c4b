// Proxied blob downloads: one upstream GET per digest however many clients wait, a client that
// goes away mid-blob does not break the cache fill, a lying upstream's bytes are never
// committed, and a Range request on a miss is answered from the filled cache.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PASSWORD, basic, type AuthRegistry, startAuthRegistry } from '../auth/support.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { tryParseDigest, type Digest } from '../../src/oci/digest.js';
import { CountingProxy, bigBlobFile, mirroredUpstream, pushBlobFile, startMirror, streamBlob, upstream, type BigBlob } from './support.js';

const ALICE = basic('alice', PASSWORD);
const BLOB_GET = /\/blobs\/sha256:/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const digestOf = (text: string) => tryParseDigest(text) as Digest;

describe('proxied blobs', () => {
  let up: AuthRegistry;
  let counter: CountingProxy;
  let mirror: TestRegistry;
  let dir: string;

  before(async () => {
    dir = await tempDir('proxy-blobs');
    up = await startAuthRegistry('basic');
    counter = await CountingProxy.start(up.host);
    mirror = await startMirror({ upstreams: [upstream('hub', counter.url, { username: 'alice', password: PASSWORD })] });
  });
  after(async () => {
    await mirror?.close();
    await counter?.close();
    await up?.close();
    await removeDir(dir);
  });

  async function upstreamBlob(name: string, size: number): Promise<BigBlob> {
    const b = await bigBlobFile(dir, size);
    assert.equal(await pushBlobFile(up.url, name, b, ALICE), 201);
    return b;
  }

  it('serves 20 concurrent pulls of one uncached blob from a single upstream GET', async () => {
    const b = await upstreamBlob('team/many', 8 * 1024 * 1024);
    counter.reset();
    const results = await Promise.all(Array.from({ length: 20 }, () => streamBlob(mirror.url, 'hub/team/many', b.digest)));
    assert.ok(results.every((r) => r.status === 200 && r.digest === b.digest && r.size === b.size), JSON.stringify(results.filter((r) => r.digest !== b.digest)));
    assert.ok(results.every((r) => r.cache === 'miss'));
    assert.equal(counter.count('GET', BLOB_GET), 1);
    counter.reset();
    assert.equal((await streamBlob(mirror.url, 'hub/team/many', b.digest)).cache, 'hit');
    assert.deepEqual(counter.seen, []);
  });

  it('finishes filling the cache when the client that started the download disconnects', async () => {
    const b = await upstreamBlob('team/quitter', 24 * 1024 * 1024);
    counter.reset();
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${mirror.url}/v2/hub/team/quitter/blobs/${b.digest}`, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
      req.end();
    });
    const base = mirror.server.proxy!.base;
    for (let i = 0; i < 100 && (await base.blobs.size(digestOf(b.digest))) === undefined; i++) await sleep(100);
    const again = await streamBlob(mirror.url, 'hub/team/quitter', b.digest);
    assert.deepEqual([again.status, again.digest, again.cache], [200, b.digest, 'hit']);
    assert.equal(counter.count('GET', BLOB_GET), 1);
  });

  it('never commits bytes that do not match the digest (a lying upstream), and recovers when it tells the truth', async () => {
    const b = await upstreamBlob('team/liar', 3 * 1024 * 1024);
    counter.mode = 'corrupt';
    try {
      const lied = await streamBlob(mirror.url, 'hub/team/liar', b.digest).catch((err: Error) => ({ status: -1, digest: err.message, cache: null, size: 0 }));
      assert.notEqual(lied.digest, b.digest, 'the client must not receive the complete wrong blob as if it were right');
      const follower = await fetch(`${mirror.url}/v2/hub/team/liar/blobs/${b.digest}`);
      // Served by a new attempt (the lie again): 502 naming the reason, or a stream cut short.
      if (follower.status === 502) {
        const body = await follower.json() as { errors: Array<{ detail: { reason: string } }> };
        assert.equal(body.errors[0]?.detail.reason, 'digest');
      } else {
        await follower.arrayBuffer().catch(() => undefined);
      }
    } finally {
      counter.mode = 'pass';
    }
    const base = mirror.server.proxy!.base;
    assert.equal(await base.blobs.size(digestOf(b.digest)), undefined);
    assert.equal(await base.blobs.isLinked('hub/team/liar', digestOf(b.digest)), false);
    const honest = await streamBlob(mirror.url, 'hub/team/liar', b.digest);
    assert.deepEqual([honest.status, honest.digest], [200, b.digest]);
  });

  it('answers a Range request on a miss from the filled cache', async () => {
    const b = await upstreamBlob('team/ranged', 2 * 1024 * 1024);
    const res = await fetch(`${mirror.url}/v2/hub/team/ranged/blobs/${b.digest}`, { headers: { range: 'bytes=100-199' } });
    const part = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 206);
    assert.equal(part.length, 100);
    const { readFileSync } = await import('node:fs');
    assert.deepEqual(part, readFileSync(b.path).subarray(100, 200));
  });
});

describe('a slow client of a proxied download', { timeout: 120_000 }, () => {
  const f = mirroredUpstream('proxy-slow');

  it('does not hold back the others: they finish while it is stalled, and it then gets the rest from storage', async () => {
    const b = await bigBlobFile(f.dir, 16 * 1024 * 1024);
    assert.equal(await pushBlobFile(f.up.url, 'team/slow', b), 201);
    f.counter.reset();
    // The first client takes one chunk and stops reading: it holds the streamed copy.
    const slow = await new Promise<{ res: import('node:http').IncomingMessage; first: Buffer }>((resolve, reject) => {
      const req = httpRequest(`${f.mirror.url}/v2/hub/team/slow/blobs/${b.digest}`, (res) => {
        res.once('data', (first: Buffer) => {
          res.pause();
          resolve({ res, first });
        });
      });
      req.on('error', reject);
      req.end();
    });
    const other = await streamBlob(f.mirror.url, 'hub/team/slow', b.digest);
    assert.deepEqual([other.status, other.digest], [200, b.digest]);
    assert.equal(slow.res.readableEnded, false, 'the stalled client has not finished');
    const hash = createHash('sha256').update(slow.first);
    slow.res.on('data', (c: Buffer) => hash.update(c));
    slow.res.resume();
    await once(slow.res, 'end');
    assert.equal(`sha256:${hash.digest('hex')}`, b.digest);
    assert.equal(f.counter.count('GET', BLOB_GET), 1);
  });
});
