// Locations follow X-Forwarded-Proto/-Host and Forwarded only when a proxy the registry trusts
// sent them (http.trustedproxies, or a proxy on this host when none are listed): anyone else's
// headers would point a client, or a cache in front, wherever the sender likes.
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';

async function uploadLocation(reg: TestRegistry, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`${reg.url}/v2/fwd/app/blobs/uploads/`, { method: 'POST', headers });
  await res.arrayBuffer();
  assert.equal(res.status, 202);
  return res.headers.get('location') ?? '';
}

const SPOOF = { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' };

describe('forwarding headers in Locations', () => {
  let loopbackDefault: TestRegistry;
  let elsewhere: TestRegistry;
  let trusted: TestRegistry;
  before(async () => {
    loopbackDefault = await startTestRegistry();
    elsewhere = await startTestRegistry({ configure: (c) => { c.http.trustedproxies = ['10.0.0.0/8']; } });
    trusted = await startTestRegistry({ configure: (c) => { c.http.trustedproxies = ['127.0.0.1/32', '::1'] } });
  });
  after(async () => {
    for (const r of [loopbackDefault, elsewhere, trusted]) await r.close();
  });

  it('ignores them from a peer that is not a listed proxy', async () => {
    const location = await uploadLocation(elsewhere, SPOOF);
    assert.ok(location.startsWith(`http://${elsewhere.host}/v2/fwd/app/blobs/uploads/`), location);
    const forwarded = await uploadLocation(elsewhere, { Forwarded: 'proto=https;host=evil.example' });
    assert.ok(forwarded.startsWith(`http://${elsewhere.host}/`), forwarded);
  });

  it('believes them from a listed proxy', async () => {
    assert.ok((await uploadLocation(trusted, SPOOF)).startsWith('https://evil.example/v2/fwd/app/blobs/uploads/'));
    assert.ok((await uploadLocation(trusted, { Forwarded: 'proto=https;host="reg.example:8443"' })).startsWith('https://reg.example:8443/v2/'));
  });

  it('believes them from a proxy on this host when no proxies are listed (nginx beside Berth)', async () => {
    assert.ok((await uploadLocation(loopbackDefault, SPOOF)).startsWith('https://evil.example/v2/'));
  });
});
