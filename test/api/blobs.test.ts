// Blob HEAD/GET (ranges, conditional requests, repository scoping) and DELETE, as tables.
import { describe, it, before, after } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, randomBlob } from '../support/oci-fixtures.js';
import { pushBlob } from '../support/push.js';
import { check, DRIVERS, UNKNOWN_DIGEST, type Row } from '../support/api-table.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const data = blob(Buffer.from(Array.from({ length: 100 }, (_, i) => i % 256)));
const empty = blob(Buffer.alloc(0));
const elsewhere = blob('only in blobs/other');
const path = (digest: string, repo = 'blobs/app') => `/v2/${repo}/blobs/${digest}`;
const slice = (start: number, end: number) => data.data.subarray(start, end + 1);

const fullHeaders = {
  'content-length': '100',
  'docker-content-digest': data.digest,
  etag: `"${data.digest}"`,
  'cache-control': IMMUTABLE,
  'content-type': 'application/octet-stream',
};

const readRows: Row[] = [
  { name: 'GET returns the bytes with digest, length, ETag and Cache-Control', call: { method: 'GET', path: path(data.digest) }, expect: { status: 200, headers: fullHeaders, body: data.data } },
  { name: 'HEAD returns the headers and no body', call: { method: 'HEAD', path: path(data.digest) }, expect: { status: 200, headers: fullHeaders } },
  { name: 'GET of an empty blob', call: { method: 'GET', path: path(empty.digest) }, expect: { status: 200, headers: { 'content-length': '0', 'docker-content-digest': empty.digest }, empty: true } },
  // Range requests.
  { name: 'Range bytes=10-19 -> 206', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=10-19' } }, expect: { status: 206, headers: { 'content-range': 'bytes 10-19/100', 'content-length': '10', 'docker-content-digest': data.digest }, body: slice(10, 19) } },
  { name: 'Range first byte', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=0-0' } }, expect: { status: 206, headers: { 'content-range': 'bytes 0-0/100', 'content-length': '1' }, body: slice(0, 0) } },
  { name: 'Range open-ended bytes=90-', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=90-' } }, expect: { status: 206, headers: { 'content-range': 'bytes 90-99/100', 'content-length': '10' }, body: slice(90, 99) } },
  { name: 'Range suffix bytes=-5', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=-5' } }, expect: { status: 206, headers: { 'content-range': 'bytes 95-99/100', 'content-length': '5' }, body: slice(95, 99) } },
  { name: 'Range suffix longer than the blob', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=-500' } }, expect: { status: 206, headers: { 'content-range': 'bytes 0-99/100' }, body: data.data } },
  { name: 'Range end past the blob is clamped', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=50-1000' } }, expect: { status: 206, headers: { 'content-range': 'bytes 50-99/100', 'content-length': '50' }, body: slice(50, 99) } },
  { name: 'HEAD with Range -> 206 without body', call: { method: 'HEAD', path: path(data.digest), headers: { Range: 'bytes=10-19' } }, expect: { status: 206, headers: { 'content-range': 'bytes 10-19/100', 'content-length': '10' } } },
  { name: 'Range starting at the size -> 416', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=100-' } }, expect: { status: 416, headers: { 'content-range': 'bytes */100' } } },
  { name: 'Range far past the end -> 416', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=500-600' } }, expect: { status: 416, headers: { 'content-range': 'bytes */100' } } },
  { name: 'Range end before start -> 416', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=20-10' } }, expect: { status: 416, headers: { 'content-range': 'bytes */100' } } },
  { name: 'zero-length suffix -> 416', call: { method: 'GET', path: path(data.digest), headers: { Range: 'bytes=-0' } }, expect: { status: 416, headers: { 'content-range': 'bytes */100' } } },
  { name: 'HEAD with unsatisfiable Range -> 416 without body', call: { method: 'HEAD', path: path(data.digest), headers: { Range: 'bytes=100-' } }, expect: { status: 416, headers: { 'content-range': 'bytes */100' } } },
  { name: 'Range on an empty blob -> 416', call: { method: 'GET', path: path(empty.digest), headers: { Range: 'bytes=0-' } }, expect: { status: 416, headers: { 'content-range': 'bytes */0' } } },
  { name: 'suffix Range on an empty blob -> 416', call: { method: 'GET', path: path(empty.digest), headers: { Range: 'bytes=-5' } }, expect: { status: 416, headers: { 'content-range': 'bytes */0' } } },
  { name: 'a Range in another unit is ignored', call: { method: 'GET', path: path(data.digest), headers: { Range: 'items=0-5' } }, expect: { status: 200, body: data.data } },
  // Conditional requests.
  { name: 'If-None-Match with the ETag -> 304', call: { method: 'GET', path: path(data.digest), headers: { 'If-None-Match': `"${data.digest}"` } }, expect: { status: 304, empty: true, headers: { etag: `"${data.digest}"` } } },
  { name: 'If-None-Match * -> 304', call: { method: 'GET', path: path(data.digest), headers: { 'If-None-Match': '*' } }, expect: { status: 304, empty: true } },
  { name: 'If-None-Match in a list -> 304', call: { method: 'GET', path: path(data.digest), headers: { 'If-None-Match': `"sha256:abc", "${data.digest}"` } }, expect: { status: 304, empty: true } },
  { name: 'HEAD with If-None-Match -> 304', call: { method: 'HEAD', path: path(data.digest), headers: { 'If-None-Match': `"${data.digest}"` } }, expect: { status: 304 } },
  { name: 'If-None-Match with another ETag -> 200', call: { method: 'GET', path: path(data.digest), headers: { 'If-None-Match': `"${UNKNOWN_DIGEST}"` } }, expect: { status: 200, body: data.data } },
  // Unknown, foreign and malformed digests.
  { name: 'GET unknown blob -> 404 BLOB_UNKNOWN', call: { method: 'GET', path: path(UNKNOWN_DIGEST) }, expect: { status: 404, code: 'BLOB_UNKNOWN' } },
  { name: 'HEAD unknown blob -> 404 without body', call: { method: 'HEAD', path: path(UNKNOWN_DIGEST) }, expect: { status: 404, headers: { 'content-length': null, 'docker-content-digest': null } } },
  { name: 'GET blob of another repository -> 404 BLOB_UNKNOWN', call: { method: 'GET', path: path(elsewhere.digest) }, expect: { status: 404, code: 'BLOB_UNKNOWN' } },
  { name: 'HEAD blob of another repository -> 404', call: { method: 'HEAD', path: path(elsewhere.digest) }, expect: { status: 404 } },
  { name: 'GET blob in an unknown repository -> 404 BLOB_UNKNOWN', call: { method: 'GET', path: path(data.digest, 'blobs/none') }, expect: { status: 404, code: 'BLOB_UNKNOWN' } },
  { name: 'the other repository does have it', call: { method: 'GET', path: path(elsewhere.digest, 'blobs/other') }, expect: { status: 200, body: elsewhere.data } },
  { name: 'digest without algorithm -> 400 DIGEST_INVALID', call: { method: 'GET', path: path('0123abcd') }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'digest too short -> 400 DIGEST_INVALID', call: { method: 'GET', path: path('sha256:abc') }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'upper-case hex -> 400 DIGEST_INVALID', call: { method: 'GET', path: path(data.digest.toUpperCase().replace('SHA256', 'sha256')) }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'unsupported algorithm -> 400 DIGEST_INVALID', call: { method: 'GET', path: path(`md5:${'0'.repeat(32)}`) }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'percent-encoded traversal as digest -> 400 DIGEST_INVALID', call: { method: 'GET', path: path('%2e%2e'), raw: true }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'HEAD with a bad digest -> 400 without body', call: { method: 'HEAD', path: path('sha256:zz') }, expect: { status: 400 } },
];

for (const driver of DRIVERS) {
  describe(`blob reads (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      await pushBlob(reg.url, 'blobs/app', data);
      await pushBlob(reg.url, 'blobs/app', empty);
      await pushBlob(reg.url, 'blobs/other', elsewhere);
    });
    after(async () => { await reg.close(); });
    for (const row of readRows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });
  });

  describe(`blob DELETE (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => { reg = await startTestRegistry({ storage: driver }); });
    after(async () => { await reg.close(); });

    it('202, then the blob is gone from that repository only', async () => {
      const b = randomBlob(256);
      await pushBlob(reg.url, 'del/a', b);
      await pushBlob(reg.url, 'del/b', b);
      await check(reg.url, { method: 'DELETE', path: path(b.digest, 'del/a') }, { status: 202, headers: { 'content-length': '0' } });
      await check(reg.url, { method: 'GET', path: path(b.digest, 'del/a') }, { status: 404, code: 'BLOB_UNKNOWN' });
      await check(reg.url, { method: 'HEAD', path: path(b.digest, 'del/a') }, { status: 404 });
      await check(reg.url, { method: 'GET', path: path(b.digest, 'del/b') }, { status: 200, body: b.data });
      await check(reg.url, { method: 'DELETE', path: path(b.digest, 'del/a') }, { status: 404, code: 'BLOB_UNKNOWN' });
    });

    const rows: Row[] = [
      { name: 'DELETE unknown blob -> 404 BLOB_UNKNOWN', call: { method: 'DELETE', path: path(UNKNOWN_DIGEST, 'del/a') }, expect: { status: 404, code: 'BLOB_UNKNOWN' } },
      { name: 'DELETE with a bad digest -> 400 DIGEST_INVALID', call: { method: 'DELETE', path: path('sha256:nothex', 'del/a') }, expect: { status: 400, code: 'DIGEST_INVALID' } },
    ];
    for (const row of rows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });
  });

  describe(`blob DELETE when deletion is disabled (${driver})`, () => {
    let reg: TestRegistry;
    const b = blob('kept');
    before(async () => {
      reg = await startTestRegistry({ storage: driver, deleteEnabled: false });
      await pushBlob(reg.url, 'keep/app', b);
    });
    after(async () => { await reg.close(); });

    const rows: Row[] = [
      { name: 'DELETE existing blob -> 405 UNSUPPORTED', call: { method: 'DELETE', path: path(b.digest, 'keep/app') }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'DELETE unknown blob -> 405 UNSUPPORTED', call: { method: 'DELETE', path: path(UNKNOWN_DIGEST, 'keep/app') }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'the blob is still served', call: { method: 'GET', path: path(b.digest, 'keep/app') }, expect: { status: 200, body: b.data } },
    ];
    for (const row of rows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });
  });
}
