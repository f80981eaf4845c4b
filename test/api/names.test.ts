// Repository names and tags against the distribution-spec grammar, on every endpoint; a rejected
// request creates nothing in storage (checked on the filesystem root).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, OCI_MANIFEST } from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { check, dirsUnder, DRIVERS, filesUnder, UNKNOWN_UPLOAD, type Call, type Row } from '../support/api-table.js';

const config = blob('{"os":"linux","architecture":"amd64"}');
const layer = blob('names layer');
const img = imageManifest(config, [layer]);
const escape = `berth-escape-${randomBytes(4).toString('hex')}`;

/** Names the grammar refuses; `raw` ones must reach the server unnormalized. */
const badNames: { name: string; raw?: boolean; why: string }[] = [
  { name: 'Upper/app', why: 'upper case' },
  { name: `a/../../${escape}`, raw: true, why: 'climbing out of the root' },
  { name: `%2e%2e/${escape}`, raw: true, why: 'leading %2e%2e' },
  { name: 'a'.repeat(256), why: '256 characters' },
  { name: 'a%2fb', raw: true, why: 'encoded slash' },
  { name: 'app/Tag', why: 'upper case in a later component' },
  { name: 'a/../b', raw: true, why: '../ inside' },
  { name: `../${escape}`, raw: true, why: 'leading ../' },
  { name: 'a/./b', raw: true, why: './ component' },
  { name: 'a/%2e%2e/b', raw: true, why: '%2e%2e component' },
  { name: 'a/%2E%2E/b', raw: true, why: '%2E%2E component' },
  { name: `${'a'.repeat(120)}/${'b'.repeat(135)}`, why: '256 characters with a slash' },
  { name: 'a//b', raw: true, why: 'empty component' },
  { name: '-a', why: 'leading separator' },
  { name: 'a-', why: 'trailing separator' },
  { name: 'a..b', why: 'double dot separator' },
  { name: 'a___b', why: 'three underscores' },
  { name: 'a_.b', why: 'mixed separators' },
  { name: '.hidden', why: 'leading dot' },
  { name: 'a/_uploads', why: 'component starting with underscore' },
  { name: 'caf%C3%A9', raw: true, why: 'non-ASCII' },
  { name: 'a%20b', raw: true, why: 'space' },
];

const goodNames = ['a', '0', 'a/b/c', 'a__b', 'a---b', 'a.b', 'a_b', 'a-b.c_d__e', 'a'.repeat(255), `${'a'.repeat(127)}/${'b'.repeat(127)}`];

/** One request per endpoint that takes a name. */
function endpointCalls(name: string, raw: boolean): Call[] {
  const r = raw ? { raw: true } : {};
  return [
    { method: 'GET', path: `/v2/${name}/tags/list`, ...r },
    { method: 'GET', path: `/v2/${name}/manifests/v1`, ...r },
    { method: 'HEAD', path: `/v2/${name}/manifests/${img.digest}`, ...r },
    { method: 'PUT', path: `/v2/${name}/manifests/v1`, body: img.body, headers: { 'Content-Type': OCI_MANIFEST }, ...r },
    { method: 'DELETE', path: `/v2/${name}/manifests/${img.digest}`, ...r },
    { method: 'GET', path: `/v2/${name}/blobs/${layer.digest}`, ...r },
    { method: 'DELETE', path: `/v2/${name}/blobs/${layer.digest}`, ...r },
    { method: 'POST', path: `/v2/${name}/blobs/uploads/`, ...r },
    { method: 'POST', path: `/v2/${name}/blobs/uploads/?digest=${layer.digest}`, body: layer.data, ...r },
    { method: 'POST', path: `/v2/${name}/blobs/uploads/?mount=${layer.digest}&from=names/src`, ...r },
    { method: 'PATCH', path: `/v2/${name}/blobs/uploads/${UNKNOWN_UPLOAD}`, body: 'chunk', ...r },
    { method: 'PUT', path: `/v2/${name}/blobs/uploads/${UNKNOWN_UPLOAD}?digest=${layer.digest}`, body: layer.data, ...r },
    { method: 'GET', path: `/v2/${name}/blobs/uploads/${UNKNOWN_UPLOAD}`, ...r },
    { method: 'DELETE', path: `/v2/${name}/blobs/uploads/${UNKNOWN_UPLOAD}`, ...r },
    { method: 'GET', path: `/v2/${name}/referrers/${img.digest}`, ...r },
  ];
}

/** The router refuses a name before any handler runs: the first names are tried on every
 * endpoint, the others on one endpoint of each kind (read, manifest write, upload). */
const EVERY_ENDPOINT = 5;
const invalidNameRows: Row[] = badNames.flatMap(({ name, raw, why }, i) => endpointCalls(name, raw ?? false).filter((_, j) => i < EVERY_ENDPOINT || j === 0 || j === 3 || j === 8).map((call): Row => ({
  name: `${why}: ${call.method} ${call.path.replace(name, '<name>').slice(0, 60)}`,
  call,
  expect: { status: 400, ...(call.method === 'HEAD' ? {} : { code: 'NAME_INVALID' }) },
})));

const invalidFromRows: Row[] = ['Upper', 'a/../b', 'a'.repeat(256), '-x'].map((from): Row => ({
  name: `mount from invalid name ${from.slice(0, 20)} -> 400 NAME_INVALID`,
  call: { method: 'POST', path: `/v2/names/dst/blobs/uploads/?mount=${layer.digest}&from=${encodeURIComponent(from)}` },
  expect: { status: 400, code: 'NAME_INVALID' },
}));

const tag129 = `a${'b'.repeat(128)}`;
const badTagRows: Row[] = [
  ...['-lead', '.dot', tag129, '%2e%2e', 'a%2Fb', 'caf%C3%A9', 'a%20b', 'a+b'].flatMap((tag): Row[] => [
    { name: `PUT tag ${tag.slice(0, 20)} -> 400 MANIFEST_INVALID`, call: { method: 'PUT', path: `/v2/names/tags/manifests/${tag}`, body: img.body, headers: { 'Content-Type': OCI_MANIFEST }, raw: true }, expect: { status: 400, code: 'MANIFEST_INVALID' } },
    // Reading a reference that is no tag finds nothing (404, as the conformance suite asks);
    // an encoded dot segment or slash is refused with the target, before any route.
    ['%2e%2e', 'a%2Fb'].includes(tag)
      ? { name: `GET tag ${tag} -> 400 MANIFEST_INVALID`, call: { method: 'GET', path: `/v2/names/tags/manifests/${tag}`, raw: true }, expect: { status: 400, code: 'MANIFEST_INVALID' } }
      : { name: `GET tag ${tag.slice(0, 20)} -> 404 MANIFEST_UNKNOWN`, call: { method: 'GET', path: `/v2/names/tags/manifests/${tag}`, raw: true }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
    { name: `DELETE tag ${tag.slice(0, 20)} -> 400 MANIFEST_INVALID`, call: { method: 'DELETE', path: `/v2/names/tags/manifests/${tag}`, raw: true }, expect: { status: 400, code: 'MANIFEST_INVALID' } },
  ]),
  { name: 'a reference with a colon is a digest -> 400 DIGEST_INVALID', call: { method: 'PUT', path: '/v2/names/tags/manifests/a:b', body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }, expect: { status: 400, code: 'DIGEST_INVALID' } },
];

const goodTags = ['_under', 'A', 'v1.0.0-rc_2', `a${'b'.repeat(127)}`, '0', 'x--y..z__'];

for (const driver of DRIVERS) {
  describe(`name and tag grammar (${driver})`, () => {
    let reg: TestRegistry;
    let filesBefore: string[] = [];
    let dirsBefore: string[] = [];
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      for (const b of [config, layer]) await pushBlob(reg.url, 'names/src', b);
      for (const b of [config, layer]) await pushBlob(reg.url, 'names/tags', b);
      if (reg.root) {
        filesBefore = await filesUnder(reg.root);
        dirsBefore = await dirsUnder(reg.root);
      }
    });
    after(async () => { await reg.close(); });

    describe('invalid names -> 400 NAME_INVALID on every endpoint', () => {
      // Names are refused before any storage is touched: the whole table runs where the
      // storage can be inspected (filesystem); the memory driver gets a sample of it.
      const table = driver === 'filesystem' ? [...invalidNameRows, ...invalidFromRows] : [...invalidNameRows.filter((_, i) => i % 8 === 0), ...invalidFromRows];
      for (const row of table) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });

      it('created nothing in storage, inside or outside the root', async () => {
        if (reg.root) {
          assert.deepEqual(await filesUnder(reg.root), filesBefore);
          assert.deepEqual(await dirsUnder(reg.root), dirsBefore);
          assert.equal(existsSync(join(reg.root, '..', escape)), false);
          assert.equal(existsSync(join(reg.root, 'docker', 'registry', 'v2', escape)), false);
          assert.equal(existsSync(join(reg.root, 'docker', 'registry', escape)), false);
        }
        await check(reg.url, { method: 'GET', path: '/v2/_catalog' }, { status: 200, json: { repositories: [] } });
      });
    });

    describe('invalid tags', () => {
      for (const row of badTagRows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });
      it('created no tag', async () => {
        // The repository holds blobs only: still no manifest, so no repository to list.
        await check(reg.url, { method: 'GET', path: '/v2/names/tags/tags/list' }, { status: 404, code: 'NAME_UNKNOWN' });
        if (reg.root) assert.deepEqual(await filesUnder(reg.root), filesBefore);
      });
    });

    describe('valid names and tags are accepted', () => {
      for (const name of goodNames) {
        it(`name ${name.slice(0, 40)}${name.length > 40 ? `... (${name.length})` : ''}`, async () => {
          await check(reg.url, { method: 'GET', path: `/v2/${name}/tags/list` }, { status: 404, code: 'NAME_UNKNOWN' });
          await check(reg.url, { method: 'POST', path: `/v2/${name}/blobs/uploads/?digest=${config.digest}`, body: config.data }, { status: 201 });
          await check(reg.url, { method: 'GET', path: `/v2/${name}/blobs/${config.digest}` }, { status: 200, body: config.data });
        });
      }
      it('tags from the grammar\'s edges', async () => {
        for (const tag of goodTags) await pushManifest(reg.url, 'names/tags', tag, img);
        await check(reg.url, { method: 'GET', path: '/v2/names/tags/tags/list' }, { status: 200, json: { name: 'names/tags', tags: [...goodTags].sort() } });
      });
    });
  });

  describe(`rejected requests on a fresh repository leave no repository behind (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      await pushBlob(reg.url, 'fresh/src', layer);
    });
    after(async () => { await reg.close(); });

    const other = blob('other content');
    const rows: Row[] = [
      { name: 'manifest PUT with missing blobs', call: { method: 'PUT', path: '/v2/fresh/a/manifests/v1', body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }, expect: { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' } },
      { name: 'manifest PUT that is not JSON', call: { method: 'PUT', path: '/v2/fresh/b/manifests/v1', body: 'nope', headers: { 'Content-Type': OCI_MANIFEST } }, expect: { status: 400, code: 'MANIFEST_INVALID' } },
      { name: 'manifest PUT with an invalid tag', call: { method: 'PUT', path: '/v2/fresh/c/manifests/-v1', body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }, expect: { status: 400, code: 'MANIFEST_INVALID' } },
      { name: 'manifest PUT by a digest that does not match', call: { method: 'PUT', path: `/v2/fresh/d/manifests/${other.digest}`, body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }, expect: { status: 400, code: 'DIGEST_INVALID' } },
      { name: 'monolithic upload with a malformed digest', call: { method: 'POST', path: '/v2/fresh/e/blobs/uploads/?digest=sha256:zz', body: other.data }, expect: { status: 400, code: 'DIGEST_INVALID' } },
      { name: 'monolithic upload with the wrong digest', call: { method: 'POST', path: `/v2/fresh/f/blobs/uploads/?digest=${layer.digest}`, body: other.data }, expect: { status: 400, code: 'DIGEST_INVALID' } },
      { name: 'PATCH of an unknown session', call: { method: 'PATCH', path: `/v2/fresh/g/blobs/uploads/${UNKNOWN_UPLOAD}`, body: other.data }, expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' } },
      { name: 'PUT of an unknown session', call: { method: 'PUT', path: `/v2/fresh/h/blobs/uploads/${UNKNOWN_UPLOAD}?digest=${other.digest}`, body: other.data }, expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' } },
      { name: 'DELETE of an unknown manifest', call: { method: 'DELETE', path: `/v2/fresh/i/manifests/${img.digest}` }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
      { name: 'DELETE of an unknown blob', call: { method: 'DELETE', path: `/v2/fresh/j/blobs/${layer.digest}` }, expect: { status: 404, code: 'BLOB_UNKNOWN' } },
    ];
    for (const row of rows) {
      it(`${row.name}: refused, and the repository still does not exist`, async () => {
        const filesBefore = reg.root ? await filesUnder(reg.root) : [];
        await check(reg.url, row.call, row.expect, row.name);
        const repo = /^\/v2\/(fresh\/[a-z])\//.exec(row.call.path)?.[1] ?? '';
        await check(reg.url, { method: 'GET', path: `/v2/${repo}/tags/list` }, { status: 404, code: 'NAME_UNKNOWN' });
        await check(reg.url, { method: 'GET', path: '/v2/_catalog' }, { status: 200, json: { repositories: [] } });
        if (reg.root) assert.deepEqual(await filesUnder(reg.root), filesBefore);
      });
    }
  });
}
