// 50 clients pull the same uncached 100 MB blob at once: the upstream sees exactly one blob GET
// and every client gets the right bytes. (Wall times: bench/proxy/, not asserted here.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bigBlobFile, mirroredUpstream, pushBlobFile, streamBlob } from './support.js';

describe('single-flight blob downloads', { timeout: 600_000 }, () => {
  const f = mirroredUpstream('proxy-flight');

  it('50 concurrent pulls of one uncached 100 MB blob: one upstream GET, 50 correct copies', async () => {
    const b = await bigBlobFile(f.dir, 100 * 1024 * 1024);
    assert.equal(await pushBlobFile(f.up.url, 'big/one', b), 201);
    f.counter.reset();
    const results = await Promise.all(Array.from({ length: 50 }, () => streamBlob(f.mirror.url, 'hub/big/one', b.digest)));
    const wrong = results.filter((r) => r.status !== 200 || r.digest !== b.digest || r.size !== b.size);
    assert.deepEqual(wrong, []);
    assert.equal(f.counter.count('GET', /\/blobs\/sha256:/), 1);
    assert.equal(f.counter.count('HEAD', /\/blobs\//), 0);
  });
});
