// Tags list and catalog, with n/last pagination and the Link header, as tables.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { check, DRIVERS, send, type Row } from '../support/api-table.js';

const config = blob('{"os":"linux"}');
const layer = blob('listed layer');
const img = imageManifest(config, [layer]);

const REPO = 'list/app';
const TAGS = ['1.0', 'B', 'a', 'b', 'c', 'latest', 'v1.0.0'];
const REPOS = ['alpha', 'list/app', 'list/app/sub', 'list/b', 'zeta'];

const tagsPath = (query = '', repo = REPO): string => `/v2/${repo}/tags/list${query}`;
const tagLink = (last: string, n: number, repo = REPO): string => `</v2/${repo}/tags/list?last=${last}&n=${n}>; rel="next"`;
const catLink = (last: string, n: number): string => `</v2/_catalog?last=${encodeURIComponent(last)}&n=${n}>; rel="next"`;
const tagsBody = (tags: string[], repo = REPO): unknown => ({ name: repo, tags });
const JSON_TYPE = /^application\/json/;

const tagRows: Row[] = [
  { name: 'all tags, lexically sorted, no Link', call: { method: 'GET', path: tagsPath() }, expect: { status: 200, json: tagsBody([...TAGS].sort()), headers: { link: null, 'content-type': JSON_TYPE } } },
  { name: 'n=2 -> first two and a Link', call: { method: 'GET', path: tagsPath('?n=2') }, expect: { status: 200, json: tagsBody(['1.0', 'B']), headers: { link: tagLink('B', 2) } } },
  { name: 'n=2&last=B -> next two and a Link', call: { method: 'GET', path: tagsPath('?n=2&last=B') }, expect: { status: 200, json: tagsBody(['a', 'b']), headers: { link: tagLink('b', 2) } } },
  { name: 'last before n in the query', call: { method: 'GET', path: tagsPath('?last=b&n=3') }, expect: { status: 200, json: tagsBody(['c', 'latest', 'v1.0.0']), headers: { link: null } } },
  { name: 'last page -> no Link', call: { method: 'GET', path: tagsPath('?n=2&last=latest') }, expect: { status: 200, json: tagsBody(['v1.0.0']), headers: { link: null } } },
  { name: 'n equal to the count -> no Link', call: { method: 'GET', path: tagsPath(`?n=${TAGS.length}`) }, expect: { status: 200, json: tagsBody([...TAGS].sort()), headers: { link: null } } },
  { name: 'n larger than the count -> all, no Link', call: { method: 'GET', path: tagsPath('?n=100') }, expect: { status: 200, json: tagsBody([...TAGS].sort()), headers: { link: null } } },
  { name: 'last without n -> the rest', call: { method: 'GET', path: tagsPath('?last=c') }, expect: { status: 200, json: tagsBody(['latest', 'v1.0.0']), headers: { link: null } } },
  { name: 'last that is not a tag -> those after it', call: { method: 'GET', path: tagsPath('?last=bb&n=1') }, expect: { status: 200, json: tagsBody(['c']), headers: { link: tagLink('c', 1) } } },
  { name: 'last past every tag -> empty list', call: { method: 'GET', path: tagsPath('?last=zzz') }, expect: { status: 200, json: tagsBody([]), headers: { link: null } } },
  { name: 'a repository with one tag', call: { method: 'GET', path: tagsPath('', 'list/b') }, expect: { status: 200, json: tagsBody(['only'], 'list/b') } },
  { name: 'a nested repository', call: { method: 'GET', path: tagsPath('?n=1', 'list/app/sub') }, expect: { status: 200, json: tagsBody(['x'], 'list/app/sub'), headers: { link: null } } },
  { name: 'a repository with blobs only (not in the catalog) -> 404 NAME_UNKNOWN', call: { method: 'GET', path: tagsPath('', 'list/blobsonly') }, expect: { status: 404, code: 'NAME_UNKNOWN' } },
  { name: 'unknown repository -> 404 NAME_UNKNOWN', call: { method: 'GET', path: tagsPath('', 'list/none') }, expect: { status: 404, code: 'NAME_UNKNOWN' } },
  { name: 'n=abc -> 400', call: { method: 'GET', path: tagsPath('?n=abc') }, expect: { status: 400, code: 'PAGINATION_NUMBER_INVALID' } },
  { name: 'n=-1 -> 400', call: { method: 'GET', path: tagsPath('?n=-1') }, expect: { status: 400, code: 'PAGINATION_NUMBER_INVALID' } },
  { name: 'n=1.5 -> 400', call: { method: 'GET', path: tagsPath('?n=1.5') }, expect: { status: 400, code: 'PAGINATION_NUMBER_INVALID' } },
  { name: 'invalid repository name -> 400 NAME_INVALID', call: { method: 'GET', path: tagsPath('', 'List/App') }, expect: { status: 400, code: 'NAME_INVALID' } },
];

const catalogRows: Row[] = [
  { name: 'all repositories, sorted, no Link', call: { method: 'GET', path: '/v2/_catalog' }, expect: { status: 200, json: { repositories: REPOS }, headers: { link: null, 'content-type': JSON_TYPE } } },
  { name: 'n=2 -> first two and a Link', call: { method: 'GET', path: '/v2/_catalog?n=2' }, expect: { status: 200, json: { repositories: REPOS.slice(0, 2) }, headers: { link: catLink('list/app', 2) } } },
  { name: 'n=2&last=list/app -> next two and a Link', call: { method: 'GET', path: `/v2/_catalog?n=2&last=${encodeURIComponent('list/app')}` }, expect: { status: 200, json: { repositories: REPOS.slice(2, 4) }, headers: { link: catLink('list/b', 2) } } },
  { name: 'last page -> no Link', call: { method: 'GET', path: '/v2/_catalog?n=2&last=list/b' }, expect: { status: 200, json: { repositories: ['zeta'] }, headers: { link: null } } },
  { name: 'n larger than the count -> all, no Link', call: { method: 'GET', path: '/v2/_catalog?n=50' }, expect: { status: 200, json: { repositories: REPOS }, headers: { link: null } } },
  { name: 'last past every name -> empty', call: { method: 'GET', path: '/v2/_catalog?last=zzz' }, expect: { status: 200, json: { repositories: [] }, headers: { link: null } } },
  { name: 'n=x -> 400', call: { method: 'GET', path: '/v2/_catalog?n=x' }, expect: { status: 400, code: 'PAGINATION_NUMBER_INVALID' } },
  { name: 'n=-3 -> 400', call: { method: 'GET', path: '/v2/_catalog?n=-3' }, expect: { status: 400, code: 'PAGINATION_NUMBER_INVALID' } },
];

/** Follows Link headers from `first`, returning every page's entries in order. */
async function walk(base: string, first: string, key: 'tags' | 'repositories'): Promise<string[][]> {
  const pages: string[][] = [];
  let next: string | undefined = first;
  while (next !== undefined) {
    const r = await send(base, { method: 'GET', path: next });
    assert.equal(r.status, 200, `GET ${next}`);
    pages.push((JSON.parse(r.body.toString()) as Record<typeof key, string[]>)[key]);
    const link = r.headers.get('link');
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    if (link) assert.ok(next, `malformed Link: ${link}`);
    assert.ok(pages.length < 20, 'pagination does not end');
  }
  return pages;
}

for (const driver of DRIVERS) {
  describe(`tags list and catalog (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      for (const repo of REPOS) for (const b of [config, layer]) await pushBlob(reg.url, repo, b);
      for (const t of TAGS) await pushManifest(reg.url, REPO, t, img);
      await pushManifest(reg.url, 'list/b', 'only', img);
      await pushBlob(reg.url, 'list/blobsonly', layer);
      await pushManifest(reg.url, 'list/app/sub', 'x', img);
      for (const repo of ['alpha', 'zeta']) await pushManifest(reg.url, repo, img.digest, img);
    });
    after(async () => { await reg.close(); });

    for (const row of tagRows) it(`tags: ${row.name}`, async () => { await check(reg.url, row.call, row.expect, row.name); });
    for (const row of catalogRows) it(`catalog: ${row.name}`, async () => { await check(reg.url, row.call, row.expect, row.name); });

    it('tags: a repository whose manifests are untagged has an empty list', async () => {
      await check(reg.url, { method: 'GET', path: tagsPath('', 'alpha') }, { status: 200, json: tagsBody([], 'alpha') });
    });

    it('tags: following Link visits every tag once, in order', async () => {
      const pages = await walk(reg.url, tagsPath('?n=3'), 'tags');
      assert.deepEqual(pages, [['1.0', 'B', 'a'], ['b', 'c', 'latest'], ['v1.0.0']]);
    });

    it('catalog: following Link visits every repository once, in order', async () => {
      const pages = await walk(reg.url, '/v2/_catalog?n=2', 'repositories');
      assert.deepEqual(pages, [REPOS.slice(0, 2), REPOS.slice(2, 4), REPOS.slice(4)]);
    });

    it('tags: a deleted tag leaves the list', async () => {
      await check(reg.url, { method: 'DELETE', path: `/v2/${REPO}/manifests/latest` }, { status: 202 });
      await check(reg.url, { method: 'GET', path: tagsPath() }, { status: 200, json: tagsBody(['1.0', 'B', 'a', 'b', 'c', 'v1.0.0']) });
    });
  });
}

describe('catalog with catalog.maxentries', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry({ configure: (c) => { c.catalog.maxentries = 2; } });
    for (const repo of ['r1', 'r2', 'r3']) {
      await pushBlob(reg.url, repo, config);
      await pushBlob(reg.url, repo, layer);
      await pushManifest(reg.url, repo, 'v1', img);
    }
  });
  after(async () => { await reg.close(); });

  const rows: Row[] = [
    { name: 'without n, pages of maxentries with a Link', call: { method: 'GET', path: '/v2/_catalog' }, expect: { status: 200, json: { repositories: ['r1', 'r2'] }, headers: { link: catLink('r2', 2) } } },
    { name: 'n above maxentries is clamped', call: { method: 'GET', path: '/v2/_catalog?n=10' }, expect: { status: 200, json: { repositories: ['r1', 'r2'] }, headers: { link: catLink('r2', 2) } } },
    { name: 'n below maxentries is honoured', call: { method: 'GET', path: '/v2/_catalog?n=1' }, expect: { status: 200, json: { repositories: ['r1'] }, headers: { link: catLink('r1', 1) } } },
    { name: 'the last page has no Link', call: { method: 'GET', path: '/v2/_catalog?last=r2' }, expect: { status: 200, json: { repositories: ['r3'] }, headers: { link: null } } },
  ];
  for (const row of rows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });
});
