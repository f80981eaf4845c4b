// Failed-login limits under concurrency, bcrypt off the event loop, and the same bcrypt work for
// unknown and known users (no user enumeration by timing).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, request, startAuthRegistry, type AuthRegistry } from './support.js';
import type { SecretMatcher } from '../../src/auth/secrets.js';

const bcryptCost = (hash: string) => Number(/^\$2[abxy]\$(\d{2})\$/.exec(hash)?.[1] ?? -1);

/** Records the cost factor of every bcrypt comparison the authenticators make. */
function observeComparisons(secrets: SecretMatcher): number[] {
  const costs: number[] = [];
  const inner = secrets.verifier;
  secrets.verifier = { verify: (secret, hash) => { costs.push(bcryptCost(hash)); return inner.verify(secret, hash); } };
  return costs;
}

describe('failed-login limits under concurrency', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('basic');
    await reg.store.addUser('victim', PASSWORD);
  });
  after(async () => reg.close());

  it('40 concurrent wrong passwords for one user: at most `attempts` (5) are checked, the rest are refused with 429', async () => {
    const costs = observeComparisons(reg.server.auth!.secrets);
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      request(`${reg.url}/v2/`, { authorization: basic('victim', `guess-${i}`) }).then((r) => r.status)));
    const checked = statuses.filter((s) => s === 401).length;
    assert.ok(checked <= 5, `${checked} wrong passwords were checked: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 429).length, 40 - checked);
    assert.ok(costs.length <= 5, `${costs.length} bcrypt comparisons`);
    assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('victim', PASSWORD) })).status, 429, 'the pair waits out the window');
  });
});

describe('bcrypt off the event loop', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('basic', { ratelimit: { attempts: 100, window: '1m' } });
    await reg.store.addUser('busy', PASSWORD);
    await reg.store.addUser('bob', PASSWORD);
  });
  after(async () => reg.close());

  it('serves another client while 20 bcrypt comparisons of cost 10 are in flight', async () => {
    assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('bob', PASSWORD) })).status, 200, 'bob logged in (remembered: no bcrypt next time)');
    const signIn = reg.server.auth!.signIn;
    const costs = observeComparisons(reg.server.auth!.secrets);
    let started = 0;
    const check = signIn.check.bind(signIn);
    signIn.check = (...args) => { started++; return check(...args); };
    let done = 0;
    const burst = Array.from({ length: 20 }, (_, i) =>
      request(`${reg.url}/v2/`, { authorization: basic('busy', `wrong-${i}`) }).then((r) => { done++; return r.status; }));
    while (started < 20) await new Promise((r) => setImmediate(r));
    const other = await request(`${reg.url}/v2/`, { authorization: basic('bob', PASSWORD) });
    const doneWhenServed = done;
    assert.equal(other.status, 200);
    assert.ok(doneWhenServed < 10, `bob waited for ${doneWhenServed} of the 20 bcrypt checks`);
    assert.deepEqual(await Promise.all(burst), Array(20).fill(401));
    assert.deepEqual(costs, Array(20).fill(10), 'each was one comparison at cost 10');
  });
});

describe('unknown users cost what known users cost', () => {
  it('htpasswd: an unknown user is compared once against a hash of the file\'s cost (htpasswd -B: 5)', async () => {
    const reg = await startAuthRegistry('basic');
    try {
      const costs = observeComparisons(reg.server.auth!.secrets);
      assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('alice', 'wrong-password') })).status, 401);
      const known = costs.splice(0);
      assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('nobody', 'wrong-password') })).status, 401);
      assert.deepEqual(known, [5]);
      assert.deepEqual(costs, known);
    } finally {
      await reg.close();
    }
  });

  it('database users: an unknown user or robot is compared once against a hash of the database\'s cost', async () => {
    const reg = await startAuthRegistry('token');
    try {
      await reg.store.addUser('bob', PASSWORD);
      await reg.store.addProject('team');
      await reg.store.addRobot('ci', 'robot-secret-123456', [{ project: 'team', actions: ['pull'] }], null);
      const costs = observeComparisons(reg.server.auth!.secrets);
      const attempt = async (user: string) => {
        assert.equal((await request(`${reg.url}/auth/token?service=berth-test`, { authorization: basic(user, 'wrong-password') })).status, 401);
        return costs.splice(0);
      };
      const known = await attempt('bob');
      assert.deepEqual(known, [10]);
      assert.deepEqual(await attempt('nobody'), known);
      assert.deepEqual(await attempt('robot$ci'), known);
      assert.deepEqual(await attempt('robot$nobody'), known);
    } finally {
      await reg.close();
    }
  });
});
