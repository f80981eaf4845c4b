// htpasswd (Basic) authentication and project access control through the registry API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, image, pushWith, request, seed, startAuthRegistry, type AuthRegistry } from './support.js';
import { readAudit } from '../../src/auth/audit.js';

describe('htpasswd authentication', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('basic');
    await seed(reg.store);
  });
  after(async () => reg.close());

  const errorCode = (body: string) => (JSON.parse(body) as { errors: Array<{ code: string }> }).errors[0]!.code;

  it('challenges /v2/ without credentials, and for the empty `Basic Og==` that credential-less clients send', async () => {
    for (const authorization of [undefined, 'Basic Og==']) {
      const res = await request(`${reg.url}/v2/`, authorization ? { authorization } : {});
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="berth-test"');
      assert.equal(errorCode(res.body), 'UNAUTHORIZED');
    }
  });

  it('accepts an htpasswd -B entry and a database user on /v2/', async () => {
    assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('alice', PASSWORD) })).status, 200);
    assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('bob', PASSWORD) })).status, 200);
  });

  it('refuses a wrong password with 401 and the challenge', async () => {
    const res = await request(`${reg.url}/v2/`, { authorization: basic('bob', 'wrong-password') });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="berth-test"');
  });

  it('lets a developer push and pull in its project; a guest pulls but pushing is denied, and nothing changes', async () => {
    const img = image();
    assert.equal(await pushWith(reg.url, 'team/app', 'v1', img, basic('bob', PASSWORD)), 201);
    const pulled = await request(`${reg.url}/v2/team/app/manifests/v1`, { authorization: basic('gus', PASSWORD), headers: { Accept: img.manifest.mediaType } });
    assert.equal(pulled.status, 200);
    assert.equal(pulled.body, img.manifest.body.toString());
    const other = image();
    assert.equal(await pushWith(reg.url, 'team/app', 'v1', other, basic('gus', PASSWORD)), 403);
    const still = await request(`${reg.url}/v2/team/app/manifests/v1`, { authorization: basic('bob', PASSWORD), headers: { Accept: img.manifest.mediaType } });
    assert.equal(still.body, img.manifest.body.toString());
    const blob = await request(`${reg.url}/v2/team/app/blobs/${other.layer.digest}`, { authorization: basic('bob', PASSWORD) });
    assert.equal(blob.status, 404, 'the refused push stored no blob');
  });

  it('refuses anonymous access to a private project with 401 and the challenge', async () => {
    const res = await request(`${reg.url}/v2/team/app/manifests/v1`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="berth-test"');
  });

  it('denies a member of project A reading project B (403 DENIED)', async () => {
    assert.equal(await pushWith(reg.url, 'other/app', 'v1', image(), basic('olga', PASSWORD)), 201);
    const res = await request(`${reg.url}/v2/other/app/tags/list`, { authorization: basic('bob', PASSWORD) });
    assert.equal(res.status, 403);
    assert.equal(errorCode(res.body), 'DENIED');
  });

  it('allows anonymous pulls of a public project, with or without `Basic Og==`, but not pushes', async () => {
    const img = image();
    assert.equal(await pushWith(reg.url, 'pub/app', 'v1', img, basic('bob', PASSWORD)), 201);
    for (const authorization of [undefined, 'Basic Og==']) {
      const res = await request(`${reg.url}/v2/pub/app/manifests/v1`, { ...(authorization ? { authorization } : {}), headers: { Accept: img.manifest.mediaType } });
      assert.equal(res.status, 200);
    }
    assert.equal(await pushWith(reg.url, 'pub/app', 'v2', image(), undefined), 401);
  });

  it('lists in _catalog only the repositories the caller may pull', async () => {
    const list = async (authorization?: string) => {
      const res = await request(`${reg.url}/v2/_catalog`, authorization ? { authorization } : {});
      assert.equal(res.status, 200, res.body);
      return (res.json() as { repositories: string[] }).repositories;
    };
    assert.deepEqual(await list(basic('bob', PASSWORD)), ['pub/app', 'team/app']);
    assert.deepEqual(await list(basic('olga', PASSWORD)), ['other/app', 'pub/app']);
    assert.deepEqual(await list(), ['pub/app']);
    assert.deepEqual(await list(basic('alice', PASSWORD)), ['other/app', 'pub/app', 'team/app']);
  });

  it('maintainers delete, developers may not; deletes and pushes are audited', async () => {
    const img = image();
    assert.equal(await pushWith(reg.url, 'other/app', 'v2', img, basic('olga', PASSWORD)), 201);
    await reg.store.setMember('other', 'bob', 'developer');
    const refused = await request(`${reg.url}/v2/other/app/manifests/${img.manifest.digest}`, { method: 'DELETE', authorization: basic('bob', PASSWORD) });
    assert.equal(refused.status, 403);
    const ok = await request(`${reg.url}/v2/other/app/manifests/${img.manifest.digest}`, { method: 'DELETE', authorization: basic('olga', PASSWORD) });
    assert.equal(ok.status, 202);
    const audit = await readAudit(reg.server.auth!.meta.db, { actor: 'olga' });
    assert.deepEqual(audit.map((a) => `${a.action} ${a.target}`), [`delete other/app@${img.manifest.digest}`, 'push other/app:v2', 'push other/app:v1']);
    assert.equal(audit[0]!.address, '127.0.0.1');
  });

  it('a robot pushes within its scope; after deletion its secret is refused', async () => {
    await reg.store.addRobot('ci', 'robot-secret-123456', [{ project: 'team', actions: ['pull', 'push'] }], null);
    assert.equal(await pushWith(reg.url, 'team/robot', 'v1', image(), basic('robot$ci', 'robot-secret-123456')), 201);
    assert.equal(await pushWith(reg.url, 'other/robot', 'v1', image(), basic('robot$ci', 'robot-secret-123456')), 403);
    await reg.store.removeRobot('ci');
    const res = await request(`${reg.url}/v2/team/robot/manifests/v1`, { authorization: basic('robot$ci', 'robot-secret-123456') });
    assert.equal(res.status, 401);
  });

  it('refuses an expired robot', async () => {
    await reg.store.addRobot('old', 'robot-secret-abcdef', [{ project: 'team', actions: ['pull'] }], new Date(Date.now() - 1000));
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('robot$old', 'robot-secret-abcdef') })).status, 401);
  });

  it('rate-limits failed logins per user and address with 429 and Retry-After', async () => {
    await reg.store.addUser('mallory', PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await request(`${reg.url}/v2/`, { authorization: basic('mallory', `guess-${i}`) })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    const limited = await request(`${reg.url}/v2/`, { authorization: basic('mallory', PASSWORD) });
    assert.equal(limited.status, 429, 'even the right password waits out the window');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('bob', PASSWORD) })).status, 200, 'other users are unaffected');
  });
});
