// Browser request forgery: the admin API takes only JSON bodies and refuses state-changing
// requests a browser marks as coming from another site; the token endpoint's form POST refuses
// cross-site browser requests. Clients that are not browsers (no Origin) are unaffected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, request, startAuthRegistry, type AuthRegistry } from './support.js';

describe('admin API against forged browser requests', () => {
  let reg: AuthRegistry;
  const root = basic('root', PASSWORD);
  before(async () => {
    reg = await startAuthRegistry('basic');
    await reg.store.addUser('root', PASSWORD, true);
  });
  after(async () => reg.close());

  const addUser = (name: string, headers: Record<string, string>, body = JSON.stringify({ name, password: PASSWORD })) =>
    request(`${reg.url}/api/v1/users`, { method: 'POST', authorization: root, headers, body });
  const exists = async (name: string) => (await reg.store.user(name)) !== undefined;

  it('refuses a JSON body sent as text/plain or as a form with 415, and creates nothing', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await addUser('forged1', { 'Content-Type': type });
      assert.equal(res.status, 415, `${type}: ${res.body}`);
      assert.equal((res.json() as { errors: Array<{ code: string }> }).errors[0]!.code, 'UNSUPPORTED_MEDIA_TYPE');
    }
    assert.equal(await exists('forged1'), false);
  });

  it('refuses a state-changing request from another site (Origin, Sec-Fetch-Site) with 403, and changes nothing', async () => {
    const cases: Array<Record<string, string>> = [
      { Origin: 'https://evil.example' },
      { Origin: 'null' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of cases) {
      const res = await addUser('forged2', { 'Content-Type': 'application/json', ...headers });
      assert.equal(res.status, 403, `${JSON.stringify(headers)}: ${res.body}`);
      assert.equal((res.json() as { errors: Array<{ code: string }> }).errors[0]!.code, 'DENIED');
    }
    const del = await request(`${reg.url}/api/v1/users/root`, { method: 'DELETE', authorization: root, headers: { 'Sec-Fetch-Site': 'cross-site' } });
    assert.equal(del.status, 403);
    assert.equal(await exists('forged2'), false);
    assert.equal(await exists('root'), true);
  });

  it('accepts JSON from the registry\'s own origin and from clients that are not browsers', async () => {
    assert.equal((await addUser('own1', { 'Content-Type': 'application/json', Origin: reg.url, 'Sec-Fetch-Site': 'same-origin' })).status, 201);
    assert.equal((await addUser('own2', { 'Content-Type': 'application/json; charset=utf-8' })).status, 201);
    const read = await request(`${reg.url}/api/v1/users`, { authorization: root, headers: { Origin: 'https://evil.example' } });
    assert.equal(read.status, 200, 'reading is not a change (and a foreign page cannot read it without CORS)');
  });
});

describe('token endpoint against forged browser requests', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('token');
    await reg.store.addUser('bob', PASSWORD);
  });
  after(async () => reg.close());

  const post = (headers: Record<string, string>) => request(`${reg.url}/auth/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'password', username: 'bob', password: PASSWORD, service: 'berth-test', client_id: 'test' }).toString(),
  });

  it('refuses the OAuth2 form POST from another site with 403, and accepts it from non-browser clients', async () => {
    assert.equal((await post({ Origin: 'https://evil.example' })).status, 403);
    assert.equal((await post({ 'Sec-Fetch-Site': 'cross-site' })).status, 403);
    assert.equal((await post({})).status, 200);
  });
});
