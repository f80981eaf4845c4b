// Revocation of the built-in token server's tokens: a password change refuses the refresh and
// access tokens issued before it; removing a user or robot refuses its tokens at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, image, pushWith, request, seed, startAuthRegistry, token, type AuthRegistry } from './support.js';

const bearer = (t: string) => `Bearer ${t}`;
const NEW_PASSWORD = 'battery-staple-7';

describe('revoking built-in tokens', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('token');
    await seed(reg.store);
    assert.equal(await pushWith(reg.url, 'team/app', 'v1', image(), bearer(await token(reg, ['repository:team/app:pull,push'], basic('bob', PASSWORD)))), 201);
  });
  after(async () => reg.close());

  const form = (fields: Record<string, string>) => request(`${reg.url}/auth/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ service: 'berth-test', ...fields }).toString(),
  });
  const refreshToken = async (user: string, password: string) => {
    const res = await form({ grant_type: 'password', username: user, password, access_type: 'offline', client_id: 'test' });
    assert.equal(res.status, 200, res.body);
    return (res.json() as { refresh_token: string }).refresh_token;
  };
  const refresh = (refresh_token: string) => form({ grant_type: 'refresh_token', refresh_token, client_id: 'test', scope: 'repository:team/app:pull' });
  const tags = (t: string) => request(`${reg.url}/v2/team/app/tags/list`, { authorization: bearer(t) });

  it('refuses refresh and access tokens issued before a password change; new ones work', async () => {
    const oldRefresh = await refreshToken('gus', PASSWORD);
    const oldAccess = await token(reg, ['repository:team/app:pull'], basic('gus', PASSWORD));
    assert.equal((await refresh(oldRefresh)).status, 200, 'good before the change');
    assert.equal((await tags(oldAccess)).status, 200);
    await reg.store.setPassword('gus', NEW_PASSWORD);
    const refused = await refresh(oldRefresh);
    assert.equal(refused.status, 401);
    assert.equal((refused.json() as { error: string }).error, 'invalid_grant');
    const denied = await tags(oldAccess);
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const fresh = await refresh(await refreshToken('gus', NEW_PASSWORD));
    assert.equal(fresh.status, 200, fresh.body);
    assert.equal((await tags((fresh.json() as { access_token: string }).access_token)).status, 200);
  });

  it('refuses the access tokens of a removed user at once, also when a user of the same name is created again', async () => {
    await reg.store.addUser('temp', PASSWORD);
    await reg.store.setMember('team', 'temp', 'guest');
    const access = await token(reg, ['repository:team/app:pull'], basic('temp', PASSWORD));
    assert.equal((await tags(access)).status, 200);
    await reg.store.removeUser('temp');
    assert.equal((await tags(access)).status, 401, 'refused at once, not when it expires');
    await reg.store.addUser('temp', PASSWORD);
    await reg.store.setMember('team', 'temp', 'guest');
    assert.equal((await tags(access)).status, 401, 'the new temp is not the old one');
  });

  it('refuses the tokens of a removed robot', async () => {
    await reg.store.addRobot('ci', 'robot-secret-123456', [{ project: 'team', actions: ['pull'] }], null);
    const access = await token(reg, ['repository:team/app:pull'], basic('robot$ci', 'robot-secret-123456'));
    assert.equal((await tags(access)).status, 200);
    await reg.store.removeRobot('ci');
    assert.equal((await tags(access)).status, 401);
  });

  it('keeps anonymous tokens of public projects working', async () => {
    assert.equal(await pushWith(reg.url, 'pub/app', 'v1', image(), bearer(await token(reg, ['repository:pub/app:pull,push'], basic('bob', PASSWORD)))), 201);
    const anonymous = await token(reg, ['repository:pub/app:pull']);
    assert.equal((await request(`${reg.url}/v2/pub/app/tags/list`, { authorization: bearer(anonymous) })).status, 200);
  });
});
