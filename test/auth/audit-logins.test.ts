// Refused sign-ins are in the audit log: user, address and why, never the password.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, request, startAuthRegistry, type AuthRegistry } from './support.js';
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
