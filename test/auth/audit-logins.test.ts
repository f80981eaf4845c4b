// Refused sign-ins are in the audit log: user, address and why, never the password. Pulls are
// when auth.audit.pulls asks for them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, image, pushWith, request, startAuthRegistry, type AuthRegistry } from './support.js';
import { readAudit } from '../../src/auth/audit.js';

describe('audit of failed sign-ins', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('basic');
  });
  after(async () => reg.close());

  it('records login.failed with the user and address for a wrong password, and for a rate-limited one', async () => {
    const wrong = 'not-the-password-7f3a';
    assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('alice', wrong) })).status, 401);
    const db = reg.server.auth!.meta.db;
    const first = await readAudit(db, { action: 'login.failed' });
    assert.equal(first.length, 1);
    assert.equal(first[0]!.actor, 'alice');
    assert.equal(first[0]!.target, 'alice');
    assert.equal(first[0]!.address, '127.0.0.1');
    assert.deepEqual(first[0]!.detail, { reason: 'invalid' });
    // The limit is 5 attempts a window: the later ones are refused before any check.
    let status = 0;
    for (let i = 0; i < 6 && status !== 429; i++) status = (await request(`${reg.url}/v2/`, { authorization: basic('alice', wrong) })).status;
    assert.equal(status, 429);
    const all = await readAudit(db, { action: 'login.failed' });
    assert.ok(all.some((e) => e.actor === 'alice' && e.detail.reason === 'rate-limited'), JSON.stringify(all));
    assert.doesNotMatch(JSON.stringify(all), new RegExp(wrong));
  });
});

describe('audit of pulls', () => {
  for (const pulls of [true, false]) {
    it(`${pulls ? 'records' : 'does not record'} a manifest pull with auth.audit.pulls ${pulls ? 'on' : 'off (the default)'}`, async () => {
      const reg = await startAuthRegistry('basic', pulls ? { audit: { pulls: true } } : {});
      try {
        const alice = basic('alice', PASSWORD);
        assert.equal(await pushWith(reg.url, 'team/app', 'v1', image(), alice), 201);
        assert.equal((await request(`${reg.url}/v2/team/app/manifests/v1`, { authorization: alice, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200);
        assert.equal((await request(`${reg.url}/v2/team/app/manifests/v1`, { method: 'HEAD', authorization: alice })).status, 200);
        // The batch is written every second; flushing it now keeps timing out of the test.
        await reg.server.auth!.pulls?.flush();
        const audit = await readAudit(reg.server.auth!.meta.db, { action: 'pull' });
        assert.deepEqual(audit.map((a) => [a.actor, a.address, a.target]), pulls ? [['alice', '127.0.0.1', 'team/app:v1']] : []);
      } finally {
        await reg.close();
      }
    });
  }
});
