// The manifest content cache (issue 22): bytes by digest only, bounded, and never in the way of
// what storage says about tags and revisions. Two Registry instances on one storage stand for
// two replicas: what one changes, the other sees on its next read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { ManifestContentCache } from '../../src/registry/manifest-content-cache.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { d, putImage, putManifest } from '../support/seed.js';
import { layout } from '../../src/registry/layout.js';

const config = blob('{"os":"linux"}');
const layer = blob('cache layer');
const first = imageManifest(config, [layer]);
const second = imageManifest(config, [layer], { annotations: { v: '2' } });

describe('manifest content cache', () => {
  it('keeps the most recently used within its byte bound, and skips large manifests', () => {
    const cache = new ManifestContentCache();
    const entry = (n: number) => ({ content: Buffer.alloc(n), parsed: undefined });
    for (let i = 0; i < 100; i++) cache.set(`sha256:${i}`, entry(32 * 1024));
    assert.ok(cache.size.bytes <= 2 * 1024 * 1024);
    assert.equal(cache.get('sha256:0'), undefined, 'the oldest went first');
    assert.ok(cache.get('sha256:99'));
    cache.set('sha256:big', entry(65 * 1024));
    assert.equal(cache.get('sha256:big'), undefined);
  });

  it('a replica sees a tag moved and a manifest deleted by another, though it holds the bytes', async () => {
    const storage = new MemoryDriver();
    const a = new Registry(storage);
    const b = new Registry(storage);
    await putImage(a, 'app', config, [layer], first, 'v1');
    assert.equal((await b.manifests.get('app', { tag: 'v1' })).digest.value, first.digest);
    await putManifest(a, 'app', second, 'v1');
    const moved = await b.manifests.get('app', { tag: 'v1' });
    assert.equal(moved.digest.value, second.digest);
    assert.deepEqual(moved.content, second.body);
    await b.manifests.get('app', { digest: d(first.digest) });
    await a.manifests.delete('app', { digest: d(first.digest) });
    await assert.rejects(b.manifests.get('app', { digest: d(first.digest) }), { code: 'MANIFEST_UNKNOWN' });
  });

  it('does not keep bytes that do not match their digest', async () => {
    const storage = new MemoryDriver();
    const registry = new Registry(storage);
    await putImage(registry, 'app', config, [layer], first, 'v1');
    const path = layout.blobData(d(first.digest));
    const corrupt = Buffer.from(first.body);
    corrupt[0] = 0x20;
    await storage.putContent(path, corrupt);
    assert.deepEqual((await registry.manifests.get('app', { tag: 'v1' })).content, corrupt, 'served as stored, as before');
    await storage.putContent(path, first.body);
    assert.deepEqual((await registry.manifests.get('app', { tag: 'v1' })).content, first.body, 'read again, not cached');
  });
});
