// A hostile upstream against the pull-through cache: its redirects, Link pages and token realm
// must not make the mirror reach the operator's internal network (loopback stands in for it;
// by address and by a name resolving to it), its error bodies must not reach clients, and a
// tag list that never ends must be cut off by a page cap, the upstream timeout, and the
// client hanging up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestRegistry } from '../support/registry-server.js';
import { sha256 } from '../support/oci-fixtures.js';
import { isPublicAddress, HostPolicy } from '../../src/client/host-policy.js';
import { MAX_TAG_PAGES } from '../../src/client/registry-client.js';
import { startMirror, upstream } from './support.js';
import { HostileUpstream, SECRET } from './support/hostile-upstream.js';

interface Answer { status: number; body: string; error?: { code: string; message: string; detail?: { upstream?: string; reason?: string; status?: number } } }

async function get(base: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' }, ...init });
  const body = await res.text();
  let error: Answer['error'];
  try {
    error = (JSON.parse(body) as { errors?: Answer['error'][] }).errors?.[0];
  } catch {
    error = undefined;
  }
  return { status: res.status, body, ...(error ? { error } : {}) };
}

/** A 502 naming the upstream and the reason, with nothing from the internal server or the upstream's body. */
function assertRefused(a: Answer, name: string, reason: string, h: HostileUpstream): void {
  assert.equal(a.status, 502, a.body);
  assert.equal(a.error?.code, 'UNAVAILABLE', a.body);
  assert.deepEqual([a.error?.detail?.upstream, a.error?.detail?.reason], [name, reason], a.body);
  assert.ok(!a.body.includes(SECRET), `the upstream's words reached the client: ${a.body}`);
  assert.ok(!a.body.includes(String(h.internal.port)), `the internal address reached the client: ${a.body}`);
}

describe('pull-through cache against a hostile upstream', () => {
  let h: HostileUpstream;
  let mirror: TestRegistry;

  before(async () => {
    h = await HostileUpstream.start();
    mirror = await startMirror({
      upstreams: [
        upstream('evil', h.url),
        upstream('trusting', h.url, { allowedhosts: [h.internalHost] }),
        upstream('realm', h.url),
        upstream('lister', h.url, { timeout: '1h' }),
        upstream('slowpoke', h.url, { timeout: '1s' }),
      ],
    });
  });
  after(async () => {
    await mirror?.close();
    await h?.close();
  });

  for (const repo of ['to-internal', 'to-localhost']) {
    it(`refuses a manifest redirect to another loopback port (${repo}); nothing reaches it`, async () => {
      const before = h.internal.seen.length;
      assertRefused(await get(mirror.url, `/v2/evil/${repo}/manifests/v1`), 'evil', 'forbidden_target', h);
      assert.equal(h.internal.seen.length, before, h.internal.seen.join('\n'));
      // Nothing was cached under the tag either.
      assertRefused(await get(mirror.url, `/v2/evil/${repo}/manifests/v1`), 'evil', 'forbidden_target', h);
    });

    it(`refuses a blob redirect to a loopback address (${repo}, checked on the resolved address)`, async () => {
      const before = h.internal.seen.length;
      const a = await get(mirror.url, `/v2/evil/${repo}/blobs/${sha256('never')}`);
      assertRefused(a, 'evil', 'forbidden_target', h);
      assert.equal(h.internal.seen.length, before, h.internal.seen.join('\n'));
    });

    it(`does not follow a tag list's Link to the internal server (${repo})`, async () => {
      const before = h.internal.seen.length;
      assertRefused(await get(mirror.url, `/v2/evil/${repo}/tags/list`), 'evil', 'forbidden_target', h);
      assert.equal(h.internal.seen.length, before, h.internal.seen.join('\n'));
    });
  }

  it('refuses a token realm on the internal server', async () => {
    const before = h.internal.seen.length;
    assertRefused(await get(mirror.url, '/v2/realm/realm/manifests/v1'), 'realm', 'forbidden_target', h);
    assert.equal(h.internal.seen.length, before, h.internal.seen.join('\n'));
  });

  it('follows a redirect to the upstream\'s own origin', async () => {
    const a = await get(mirror.url, '/v2/evil/same-origin/manifests/v1');
    assert.equal(a.status, 200, a.body);
    assert.equal(a.body, h.manifest.body.toString('utf8'));
  });

  it('follows a redirect to a host the upstream\'s allowedhosts lists, even on loopback', async () => {
    const before = h.internal.seen.length;
    const a = await get(mirror.url, '/v2/trusting/to-internal/manifests/v1');
    assert.equal(a.status, 200, a.body);
    assert.equal(a.body, h.manifest.body.toString('utf8'));
    assert.deepEqual(h.internal.seen.slice(before), ['GET /manifest']);
  });

  it('answers an upstream 500 with a 502 naming the upstream and the status, not the upstream\'s body', async () => {
    const a = await get(mirror.url, '/v2/evil/fails/manifests/v1');
    assertRefused(a, 'evil', 'status', h);
    assert.equal(a.error?.detail?.status, 500);
    assert.match(a.error?.message ?? '', /upstream "evil" .*HTTP 500/);
    const tags = await get(mirror.url, '/v2/evil/fails/tags/list');
    assertRefused(tags, 'evil', 'status', h);
  });

  it(`stops following an endless tag list after ${MAX_TAG_PAGES} pages`, { timeout: 120_000 }, async () => {
    const a = await get(mirror.url, '/v2/lister/endless/tags/list');
    assertRefused(a, 'lister', 'status', h);
    assert.equal(h.pages.get('endless'), MAX_TAG_PAGES);
  });

  it('stops following a slow endless tag list at the upstream timeout (the whole listing, not each page)', { timeout: 120_000 }, async () => {
    const a = await get(mirror.url, '/v2/slowpoke/slow/tags/list');
    assertRefused(a, 'slowpoke', 'timeout', h);
    assert.ok((h.pages.get('slow') ?? 0) < MAX_TAG_PAGES);
  });

  it('stops following a tag list when the client hangs up', { timeout: 30_000 }, async () => {
    const client = new AbortController();
    const pending = fetch(`${mirror.url}/v2/lister/gated/tags/list`, { signal: client.signal }).catch(() => undefined);
    await h.gate.held;
    client.abort();
    await pending;
    // The upstream timeout is an hour: only the client's hanging up can end the mirror's request.
    await h.gate.closed;
    assert.equal(h.pages.get('gated'), 5);
  });
});

describe('which addresses a confined endpoint reaches without being told', () => {
  const rows: Array<[string, boolean]> = [
    ['127.0.0.1', false], ['10.1.2.3', false], ['172.16.0.1', false], ['192.168.1.1', false], ['100.64.0.1', false],
    ['169.254.169.254', false], ['0.0.0.0', false], ['::1', false], ['::', false], ['fc00::1', false], ['fd12:3456::1', false],
    ['fe80::1', false], ['::ffff:127.0.0.1', false], ['::ffff:7f00:1', false], ['::ffff:169.254.169.254', false], ['64:ff9b::a9fe:a9fe', false],
    ['8.8.8.8', true], ['104.16.0.1', true], ['2606:4700::1111', true], ['::ffff:8.8.8.8', true], ['not-an-ip', false],
  ];
  for (const [address, open] of rows) {
    it(`${address} is ${open ? 'public' : 'refused'}`, () => assert.equal(isPublicAddress(address), open));
  }

  it('trusts the origin it was given and the listed hosts, on their ports', () => {
    const p = new HostPolicy('http://127.0.0.1:5000', ['cdn.example.com', 'minio.internal:9000', '*.s3.example.com']);
    assert.equal(p.trustsUrl('http://127.0.0.1:5000/v2/'), true);
    assert.equal(p.trustsUrl('http://127.0.0.1:5001/v2/'), false);
    assert.equal(p.trustsUrl('https://127.0.0.1:5000/v2/'), true);
    assert.equal(p.trustsUrl('https://cdn.example.com/x'), true);
    assert.equal(p.trustsUrl('http://cdn.example.com:8080/x'), true);
    assert.equal(p.trustsUrl('http://minio.internal:9000/x'), true);
    assert.equal(p.trustsUrl('http://minio.internal:9001/x'), false);
    assert.equal(p.trustsUrl('https://bucket.s3.example.com/x'), true);
    assert.equal(p.trustsUrl('https://s3.example.com.evil.test/x'), false);
    assert.equal(p.trustsUrl('https://evilcdn.example.com/x'), false);
  });
});
