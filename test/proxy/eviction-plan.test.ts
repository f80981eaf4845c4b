// Eviction decisions over bookkeeping rows alone: which images go, which shared content stays.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cachedImages, planEviction, type CacheEntry } from '../../src/proxy/eviction-plan.js';
import { cacheLimitsFrom } from '../../src/proxy/cache-limits.js';
import { parseByteSize } from '../../src/config/size.js';
import { loadConfig } from '../../src/config/load.js';
import type { ManifestRefs } from '../../src/gc/references.js';

const HOUR = 3_600_000;
const NOW = 1_000 * HOUR;

function graph(refs: Record<string, Partial<ManifestRefs>>) {
  return (d: string): ManifestRefs | undefined => {
    const r = refs[d];
    return r ? { blobs: r.blobs ?? [], children: r.children ?? [], subject: r.subject } : undefined;
  };
}

function m(repository: string, digest: string, lastPulledAt: number, size = 10): CacheEntry {
  return { repository, digest, kind: 'manifest', size, lastPulledAt };
}
function b(repository: string, digest: string, size: number, lastPulledAt = NOW): CacheEntry {
  return { repository, digest, kind: 'blob', size, lastPulledAt };
}

describe('eviction plan', () => {
  it('evicts the least recently pulled image until the cache fits, keeping a layer a remaining image shares', () => {
    const refs = graph({ mA: { blobs: ['cA', 'shared', 'onlyA'] }, mB: { blobs: ['cB', 'shared'] } });
    const entries = [
      m('hub/app', 'mA', NOW - 2 * HOUR), b('hub/app', 'cA', 5), b('hub/app', 'shared', 1000), b('hub/app', 'onlyA', 500),
      m('hub/app', 'mB', NOW - HOUR), b('hub/app', 'cB', 5),
    ];
    const plan = planEviction(entries, refs, { maxBytes: 1100, maxAgeMs: 0, now: NOW });
    assert.equal(plan.bytesBefore, 1530);
    assert.equal(plan.evictions.length, 1);
    const [e] = plan.evictions;
    assert.equal(e?.image.root, 'mA');
    assert.equal(e?.reason, 'maxsize');
    assert.deepEqual(e?.manifests, ['mA']);
    assert.deepEqual(e?.blobs.sort(), ['cA', 'onlyA']);
    assert.equal(e?.freedBytes, 515);
    assert.equal(plan.bytesAfter, 1015);
  });

  it('evicts nothing when the cache is within maxsize and no limit is set for age', () => {
    const entries = [m('r', 'm1', 0), b('r', 'l', 100)];
    const plan = planEviction(entries, graph({ m1: { blobs: ['l'] } }), { maxBytes: 110, maxAgeMs: 0, now: NOW });
    assert.deepEqual(plan.evictions, []);
    assert.equal(plan.bytesAfter, 110);
  });

  it('evicts every image not pulled within maxage, however small the cache', () => {
    const refs = graph({ old: { blobs: ['l1'] }, fresh: { blobs: ['l2'] } });
    const entries = [m('r1', 'old', NOW - 25 * HOUR), b('r1', 'l1', 1), m('r2', 'fresh', NOW - HOUR), b('r2', 'l2', 1)];
    const plan = planEviction(entries, refs, { maxBytes: 0, maxAgeMs: 24 * HOUR, now: NOW });
    assert.deepEqual(plan.evictions.map((e) => [e.image.root, e.reason]), [['old', 'maxage']]);
  });

  it('counts an index and its children as one image, last pulled when any of its manifests was', () => {
    const refs = graph({ idx: { children: ['amd', 'arm'] }, amd: { blobs: ['l1'] }, arm: { blobs: ['l2'] }, other: { blobs: ['l3'] } });
    const entries = [
      m('r', 'idx', NOW - 10 * HOUR), m('r', 'amd', NOW - HOUR), m('r', 'arm', NOW - 10 * HOUR), b('r', 'l1', 100), b('r', 'l2', 100),
      m('r', 'other', NOW - 5 * HOUR), b('r', 'l3', 100),
    ];
    const images = cachedImages(entries, refs);
    assert.deepEqual(images.map((i) => [i.root, i.manifests, i.blobs.sort(), i.lastPulledAt]).sort(), [
      ['idx', ['idx', 'amd', 'arm'], ['l1', 'l2'], NOW - HOUR],
      ['other', ['other'], ['l3'], NOW - 5 * HOUR],
    ]);
    const plan = planEviction(entries, refs, { maxBytes: 250, maxAgeMs: 0, now: NOW });
    assert.deepEqual(plan.evictions.map((e) => e.image.root), ['other'], 'the index was pulled (through its amd64 child) more recently');
  });

  it('keeps a child manifest another remaining index of the repository lists', () => {
    const refs = graph({ i1: { children: ['c'] }, i2: { children: ['c', 'd'] }, c: { blobs: ['lc'] }, d: { blobs: ['ld'] } });
    const entries = [m('r', 'i1', NOW - 3 * HOUR), m('r', 'i2', NOW), m('r', 'c', NOW - 3 * HOUR), m('r', 'd', NOW), b('r', 'lc', 50), b('r', 'ld', 50)];
    const plan = planEviction(entries, refs, { maxBytes: 0, maxAgeMs: 2 * HOUR, now: NOW });
    assert.equal(plan.evictions.length, 1);
    assert.deepEqual(plan.evictions[0]?.manifests, ['i1']);
    assert.deepEqual(plan.evictions[0]?.blobs, []);
  });

  it('keeps a referrer with its subject, and counts a layer shared across repositories until its last row goes', () => {
    const refs = graph({ img: { blobs: ['l'] }, sig: { subject: 'img', blobs: ['s'] }, other: { blobs: ['l'] } });
    const entries = [
      m('a', 'img', NOW - 5 * HOUR), m('a', 'sig', NOW - 5 * HOUR), b('a', 'l', 1000), b('a', 's', 1),
      m('b', 'other', NOW), b('b', 'l', 1000),
    ];
    const plan = planEviction(entries, refs, { maxBytes: 1, maxAgeMs: 0, now: NOW });
    const [first, second] = plan.evictions;
    assert.deepEqual(first?.image.manifests, ['img', 'sig']);
    assert.deepEqual(first?.blobs.sort(), ['l', 's']);
    assert.equal(first?.freedBytes, 10 + 10 + 1, 'the layer is still cached for repository b');
    assert.equal(second?.image.root, 'other');
    assert.equal(second?.freedBytes, 1010);
  });

  it('treats a blob no cached manifest reaches as an image of its own', () => {
    const entries = [b('r', 'lonely', 700, NOW - 3 * HOUR), m('r', 'm', NOW), b('r', 'l', 10)];
    const plan = planEviction(entries, graph({ m: { blobs: ['l'] } }), { maxBytes: 100, maxAgeMs: 0, now: NOW });
    assert.deepEqual(plan.evictions.map((e) => [e.image.root, e.blobs, e.freedBytes]), [['lonely', ['lonely'], 700]]);
  });
});

describe('cache limits', () => {
  it('reads binary and decimal sizes, plain bytes and zero', () => {
    assert.equal(parseByteSize('10GiB'), 10 * 2 ** 30);
    assert.equal(parseByteSize('1.5GB'), 1.5e9);
    assert.equal(parseByteSize('512 MiB'), 512 * 2 ** 20);
    assert.equal(parseByteSize('1048576'), 1048576);
    assert.equal(parseByteSize('0'), 0);
    assert.throws(() => parseByteSize('10 gigs'), /invalid size "10 gigs"/);
  });

  it('lists only upstreams with a limit', () => {
    assert.deepEqual(cacheLimitsFrom({
      upstreams: [{ name: 'hub', maxsize: 1024, maxage: 0 }, { name: 'ghcr', maxage: 2 * 3_600_000 }, { name: 'quay' }],
    }), [{ upstream: 'hub', maxBytes: 1024, maxAgeMs: 0 }, { upstream: 'ghcr', maxBytes: 0, maxAgeMs: 2 * 3_600_000 }]);
  });

  it("takes Distribution mode's ttl as the lifetime of the one upstream's content", () => {
    const mirror = (ttl: string) => loadConfig({ env: { REGISTRY_PROXY_REMOTEURL: 'https://registry-1.docker.io', REGISTRY_PROXY_TTL: ttl } }).config.proxy;
    assert.deepEqual(cacheLimitsFrom(mirror('168h')), [{ upstream: 'default', maxBytes: 0, maxAgeMs: 168 * 3_600_000 }]);
    assert.deepEqual(cacheLimitsFrom(mirror('0s')), []);
  });
});
