// 50 clients pull the same uncached 100 MB blob at once: the upstream sees exactly one blob GET
// and every client gets the right bytes. (Wall times: bench/proxy/, not asserted here.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { startTestRegistry, type TestRegistry } from '../helpers/registry-server.js';
import { CountingProxy, bigBlobFile, pushBlobFile, startMirror, streamBlob, upstream } from './support.js';

describe('single-flight blob downloads', { timeout: 600_000 }, () => {
  let up: TestRegistry;
  let counter: CountingProxy;
  let mirror: TestRegistry;
  let dir: string;

  before(async () => {
    dir = await tempDir('proxy-flight');
    up = await startTestRegistry({ storage: 'filesystem' });
    counter = await CountingProxy.start(up.host);
    mirror = await startMirror({ upstreams: [upstream('hub', counter.url)] });
  });
  after(async () => {
    await mirror?.close();
    await counter?.close();
    await up?.close();
    await removeDir(dir);
  });

  it('50 concurrent pulls of one uncached 100 MB blob: one upstream GET, 50 correct copies', async () => {
    const b = await bigBlobFile(dir, 100 * 1024 * 1024);
    assert.equal(await pushBlobFile(up.url, 'big/one', b), 201);
    counter.reset();
    const results = await Promise.all(Array.from({ length: 50 }, () => streamBlob(mirror.url, 'hub/big/one', b.digest)));
    const wrong = results.filter((r) => r.status !== 200 || r.digest !== b.digest || r.size !== b.size);
    assert.deepEqual(wrong, []);
    assert.equal(counter.count('GET', /\/blobs\/sha256:/), 1);
    assert.equal(counter.count('HEAD', /\/blobs\//), 0);
  });
});
