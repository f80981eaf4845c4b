// The read API's repository pages: keyset paging that visits every repository once, substring
// search, sorting by name, last push and size, bad input refused with error JSON, and the
// same visibility as the registry API's catalog for each kind of caller (Basic and token auth).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { PASSWORD, basic, seed, startAuthRegistry, token, type AuthRegistry } from '../auth/support.js';
import { allPages, assertError, getJson, push, read, smallImage } from './read-support.js';
import type { Page, RepositorySummary } from '../../src/inventory/shapes.js';


function everyPage(base: string, query: string, authorization?: string): Promise<RepositorySummary[]> {
  return allPages<RepositorySummary>(`${base}/api/v1/repositories?${query}`, 'RepositoryPage', authorization);
}

describe('read API: repositories (no auth)', () => {
  let reg: TestRegistry;
  const names: string[] = [];
  const sizes = new Map<string, number>();
  before(async () => {
    reg = await startTestRegistry();
    // Pushed one after another: the push order is the last-push order.
    for (let i = 0; i < 23; i++) {
      const name = `${i % 3 === 0 ? 'web' : 'data'}/svc-${String(i).padStart(2, '0')}`;
      const img = smallImage(100 + i * 37);
      assert.equal(await push(reg.url, name, 'v1', img.manifest, img.blobs), 201);
      names.push(name);
      sizes.set(name, img.manifest.body.length + img.blobs.reduce((n, b) => n + b.size, 0));
    }
  });
  after(async () => reg.close());

  it('pages through every repository once, in name order, with counts and deduplicated sizes', async () => {
    const all = await everyPage(reg.url, 'limit=4');
    assert.deepEqual(all.map((r) => r.name), [...names].sort());
    for (const r of all) {
      assert.equal(r.sizeBytes, sizes.get(r.name), r.name);
      assert.equal(r.tags, 1);
      assert.equal(r.artifacts, 1);
      assert.equal(r.project, r.name.split('/')[0]);
      assert.ok(r.lastPushAt);
    }
    const desc = await everyPage(reg.url, 'limit=5&order=desc');
    assert.deepEqual(desc.map((r) => r.name), [...names].sort().reverse());
  });

  it('sorts by size and by last push, ties broken by name, across pages', async () => {
    const bySize = await everyPage(reg.url, 'sort=size&limit=6');
    assert.deepEqual(bySize.map((r) => r.name), [...names].sort((a, b) => sizes.get(b)! - sizes.get(a)! || (a < b ? -1 : 1)));
    const byPush = await everyPage(reg.url, 'sort=lastPush&limit=5');
    const times = byPush.map((r) => Date.parse(r.lastPushAt!));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    assert.equal(byPush[0]!.name, names[names.length - 1], 'the last pushed comes first');
    const oldest = await everyPage(reg.url, 'sort=lastPush&order=asc&limit=50');
    assert.equal(oldest[0]!.name, names[0]);
  });

  it('finds repositories by a substring of the name (typeahead) and by project', async () => {
    assert.deepEqual((await everyPage(reg.url, 'q=svc-1&limit=3')).map((r) => r.name), names.filter((n) => n.includes('svc-1')).sort());
    assert.deepEqual((await everyPage(reg.url, 'project=web')).map((r) => r.name), names.filter((n) => n.startsWith('web/')).sort());
    assert.deepEqual((await everyPage(reg.url, 'q=%25')).map((r) => r.name), [], 'a % is a character, not a wildcard');
    const one = await read<RepositorySummary>(`${reg.url}/api/v1/repositories/${names[0]}`, 'Repository');
    assert.equal(one.name, names[0]);
  });

  it('refuses bad input with error JSON naming it', async () => {
    for (const [query, code] of [['limit=0', 'INVALID'], ['limit=1001', 'INVALID'], ['limit=ten', 'INVALID'], ['sort=stars', 'INVALID'], ['order=up', 'INVALID'], ['cursor=not-a-cursor', 'INVALID'], ['colour=red', 'INVALID'], ['project=a/b', 'INVALID']] as const) {
      const answer = await getJson(`${reg.url}/api/v1/repositories?${query}`);
      assertError(answer, 400, code);
    }
    assertError(await getJson(`${reg.url}/api/v1/repositories/Not_Valid`), 400, 'NAME_INVALID');
    assertError(await getJson(`${reg.url}/api/v1/repositories/web/nothing-here`), 404, 'NAME_UNKNOWN');
    assertError(await getJson(`${reg.url}/api/v1/repositories/web/svc-00/-/nonsense`), 404, 'NOT_FOUND');
  });
});

describe('read API: repositories under access control', () => {
  let reg: AuthRegistry;
  const root = basic('root', PASSWORD);
  before(async () => {
    reg = await startAuthRegistry('basic');
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    for (const name of ['team/app', 'team/db', 'other/tool', 'pub/base']) {
      const img = smallImage();
      assert.equal(await push(reg.url, name, 'v1', img.manifest, img.blobs, root), 201);
    }
  });
  after(async () => reg.close());

  it('shows each caller exactly the repositories the registry catalog shows them', async () => {
    const callers: Array<[string, string | undefined]> = [
      ['anonymous', undefined], ['bob', basic('bob', PASSWORD)], ['gus', basic('gus', PASSWORD)], ['olga', basic('olga', PASSWORD)],
      ['root', root], ['alice (htpasswd)', basic('alice', PASSWORD)],
    ];
    for (const [who, authorization] of callers) {
      const catalog = await getJson(`${reg.url}/v2/_catalog`, authorization);
      assert.equal(catalog.status, 200, who);
      const listed = (await everyPage(reg.url, 'limit=2', authorization)).map((r) => r.name);
      assert.deepEqual(listed, (catalog.body as { repositories: string[] }).repositories, who);
    }
    assert.deepEqual((await everyPage(reg.url, 'limit=10', basic('gus', PASSWORD))).map((r) => r.name), ['pub/base', 'team/app', 'team/db']);
  });

  it('answers a repository as its /v2/ tag list does: 401 with the challenge, 403 when not allowed', async () => {
    const anonymous = await getJson(`${reg.url}/api/v1/repositories/team/app/-/artifacts`);
    assertError(anonymous, 401, 'UNAUTHORIZED');
    assert.equal(anonymous.headers.get('www-authenticate'), (await getJson(`${reg.url}/v2/team/app/tags/list`)).headers.get('www-authenticate'));
    assertError(await getJson(`${reg.url}/api/v1/repositories/team/app`, basic('olga', PASSWORD)), 403, 'DENIED');
    assertError(await getJson(`${reg.url}/api/v1/repositories/team/app`, basic('bob', 'wrong-password')), 401, 'UNAUTHORIZED');
    await read(`${reg.url}/api/v1/repositories/team/app/-/artifacts`, 'ArtifactPage', basic('gus', PASSWORD));
    await read(`${reg.url}/api/v1/repositories/pub/base`, 'Repository');
  });
});

describe('read API: repositories with token auth', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('token');
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    for (const name of ['team/app', 'other/tool']) {
      const img = smallImage();
      const t = `Bearer ${await token(reg, [`repository:${name}:push,pull`], basic('root', PASSWORD))}`;
      assert.equal(await push(reg.url, name, 'v1', img.manifest, img.blobs, t), 201);
    }
  });
  after(async () => reg.close());

  it('reads a repository with a bearer token that grants its pull, and is challenged for more scope otherwise', async () => {
    const bob = `Bearer ${await token(reg, ['repository:team/app:pull'], basic('bob', PASSWORD))}`;
    const page = await read<Page<{ tags: string[] }>>(`${reg.url}/api/v1/repositories/team/app/-/artifacts`, 'ArtifactPage', bob);
    assert.deepEqual(page.items.map((a) => a.tags), [['v1']]);
    const refused = await getJson(`${reg.url}/api/v1/repositories/other/tool/-/artifacts`, bob);
    assertError(refused, 401, 'UNAUTHORIZED');
    assert.match(refused.headers.get('www-authenticate') ?? '', /scope="repository:other\/tool:pull"/);
    const listed = (await everyPage(reg.url, 'limit=1', bob)).map((r) => r.name);
    assert.deepEqual(listed, ['team/app']);
  });
});
