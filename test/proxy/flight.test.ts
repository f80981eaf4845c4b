// Blob fills across replicas: two Berth mirrors on one filesystem root and one real Redis, in
// front of a counting upstream. With Redis the replicas share one upstream download per blob;
// without it each downloads once (which shows these counts can fail). A replica that died holding
// the lock, or one closed mid-fill, is taken over; Redis stopped, pulls still work.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { startRedis, redisSkip, type RedisServer } from '../support/redis.js';
import { bigBlobFile, CountingProxy, pushBlobFile, streamBlob, upstream, type BigBlob } from './support.js';
import { fillLockKey } from '../../src/proxy/fill-lock.js';
import { removeDir, tempDir } from '../e2e/support/env.js';

const BLOB_GET = /\/blobs\/sha256:/;
const SIZE = 20 * 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Lab {
  root: string;
  up: TestRegistry;
  counter: CountingProxy;
  dir: string;
}

/** A mirror of upstream `hub` at `remoteurl` on the shared root, with its own metadata file. */
async function replica(lab: Lab, remoteurl: string, id: string, redisAddr?: string): Promise<TestRegistry> {
  return startTestRegistry({
    root: lab.root,
    env: redisAddr ? { REGISTRY_REDIS_ADDR: redisAddr, REGISTRY_REDIS_READTIMEOUT: '500ms', REGISTRY_REDIS_DIALTIMEOUT: '500ms' } : {},
    configure: (config) => {
      config.proxy = { ...config.proxy, upstreams: [upstream('hub', remoteurl)] };
      config.meta = { ...config.meta, sqlite: { path: join(lab.dir, `${id}.sqlite`) } };
    },
  });
}

function lab(): Lab {
  const l = {} as Lab;
  before(async () => {
    l.dir = await tempDir('proxy-flight');
    l.root = await mkdtemp(join(tmpdir(), 'berth-flight-root-'));
    l.up = await startTestRegistry({ storage: 'filesystem' });
    l.counter = await CountingProxy.start(l.up.host);
  });
  after(async () => {
    await l.counter?.close();
    await l.up?.close();
    if (l.root) await rm(l.root, { recursive: true, force: true });
    if (l.dir) await removeDir(l.dir);
  });
  return l;
}

async function upstreamBlob(l: Lab, name: string): Promise<BigBlob> {
  const b = await bigBlobFile(l.dir, SIZE);
  assert.equal(await pushBlobFile(l.up.url, name, b), 201);
  return b;
}

/** `n` concurrent pulls spread over the mirrors; every one must get the right bytes. */
async function pullEverywhere(mirrors: TestRegistry[], name: string, b: BigBlob, n = 20): Promise<void> {
  const results = await Promise.all(Array.from({ length: n }, (_, i) => streamBlob(mirrors[i % mirrors.length]!.url, name, b.digest)));
  const wrong = results.filter((r) => r.status !== 200 || r.digest !== b.digest || r.size !== b.size);
  assert.deepEqual(wrong, [], 'every pull gets the whole blob with the right digest');
}

/** An upstream that sends about 4 MB/s, so a fill of SIZE lasts a few seconds; close() cuts it. */
class SlowUpstream {
  gets = 0;
  url = '';
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  constructor(target: string) {
    this.#server = createServer((req, res) => {
      if (req.method === 'GET' && BLOB_GET.test(req.url ?? '')) this.gets++;
      const fwd = httpRequest(`http://${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(new Transform({
          transform(chunk: Buffer, _enc, done) { setTimeout(() => done(null, chunk), Math.ceil(chunk.length / 4096)); },
        })).pipe(res);
      });
      fwd.on('error', () => res.destroy());
      // A cut client connection cuts the upstream one too (or the upstream never drains it).
      res.on('close', () => fwd.destroy());
      req.pipe(fwd);
    });
    this.#server.on('connection', (s) => { this.#sockets.add(s); s.on('close', () => this.#sockets.delete(s)); });
  }
  async listen(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    const a = this.#server.address();
    if (!a || typeof a === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${a.port}`;
  }
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

describe('blob fills shared across replicas through Redis', { skip: redisSkip(), timeout: 180_000 }, () => {
  const l = lab();
  let redis: RedisServer;
  let mirrors: TestRegistry[] = [];

  before(async () => {
    redis = await startRedis();
    mirrors = [await replica(l, l.counter.url, 'a', redis.addr), await replica(l, l.counter.url, 'b', redis.addr)];
  });
  after(async () => {
    for (const m of mirrors) await m.close();
    await redis?.close();
  });

  it('20 concurrent pulls over two replicas make exactly one upstream blob GET', async () => {
    const b = await upstreamBlob(l, 'team/shared');
    l.counter.reset();
    await pullEverywhere(mirrors, 'hub/team/shared', b);
    assert.equal(l.counter.count('GET', BLOB_GET), 1);
  });

  it('a replica that died holding the lock is taken over once the lock expires', async () => {
    const b = await upstreamBlob(l, 'team/orphan');
    const client = new Redis(redis.addr);
    try {
      // What a replica that crashed right after taking the lock leaves behind.
      assert.equal(await client.set(fillLockKey('hub', b.digest), 'dead-replica', 'PX', 3000, 'NX'), 'OK');
      l.counter.reset();
      const pulls = pullEverywhere(mirrors, 'hub/team/orphan', b, 10);
      await sleep(1000);
      assert.equal(l.counter.count('GET', BLOB_GET), 0, 'nobody downloads while the lock is held');
      await pulls;
      assert.equal(l.counter.count('GET', BLOB_GET), 1, 'exactly one replica took over');
    } finally {
      client.disconnect();
    }
  });

  it('a replica closed mid-fill: the other takes over and completes', async () => {
    const b = await upstreamBlob(l, 'team/closed');
    const slow = new SlowUpstream(l.up.host);
    await slow.listen();
    const holder = await replica(l, slow.url, 'c', redis.addr);
    let closed = false;
    try {
      // The holder's client goes away after the first bytes; the fill runs on for the cache.
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${holder.url}/v2/hub/team/closed/blobs/${b.digest}`, (res) => {
          res.once('data', () => { req.destroy(); resolve(); });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
        req.end();
      });
      assert.equal(slow.gets, 1, 'the holder is downloading');
      l.counter.reset();
      const pulls = pullEverywhere(mirrors, 'hub/team/closed', b, 6);
      await sleep(500);
      assert.equal(l.counter.count('GET', BLOB_GET), 0, 'the others wait for the holder');
      // The holder goes away mid-fill: its upstream connection cut and the server closed.
      closed = true;
      await Promise.all([slow.close(), holder.close()]);
      await pulls;
      assert.equal(l.counter.count('GET', BLOB_GET), 1, 'one replica took over the download');
    } finally {
      if (!closed) await Promise.all([slow.close(), holder.close()]);
    }
  });

  it('with Redis stopped, pulls still work (each replica downloads on its own)', async () => {
    const b = await upstreamBlob(l, 'team/outage');
    await redis.stop();
    try {
      l.counter.reset();
      await pullEverywhere(mirrors, 'hub/team/outage', b, 10);
      const gets = l.counter.count('GET', BLOB_GET);
      assert.ok(gets >= 1 && gets <= 2, `one download per replica at most, saw ${gets}`);
    } finally {
      await redis.start();
    }
  });
});

describe('blob fills without Redis', { timeout: 120_000 }, () => {
  const l = lab();
  let mirrors: TestRegistry[] = [];

  before(async () => {
    mirrors = [await replica(l, l.counter.url, 'a'), await replica(l, l.counter.url, 'b')];
  });
  after(async () => {
    for (const m of mirrors) await m.close();
  });

  it('20 concurrent pulls over two replicas make one upstream blob GET per replica', async () => {
    const b = await upstreamBlob(l, 'team/shared');
    l.counter.reset();
    await pullEverywhere(mirrors, 'hub/team/shared', b);
    assert.equal(l.counter.count('GET', BLOB_GET), 2);
  });
});
