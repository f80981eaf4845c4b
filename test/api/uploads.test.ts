// Blob uploads: monolithic POST, POST + PUT, chunked and streamed PATCH, status, cancel,
// cross-repository mount and sha512, as tables of request steps.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, randomBlob, type Blob } from '../support/oci-fixtures.js';
import { pushBlob } from '../support/push.js';
import {
  blobDataPath, check, DRIVERS, filesUnder, locationPath, runSteps, UNKNOWN_UPLOAD,
  type Call, type Expect, type Step,
} from '../support/api-table.js';
import { existsSync } from 'node:fs';

interface Session {
  /** Path of the upload session, from the last Location header. */
  loc: string;
  uuid: string;
}

interface Scenario {
  name: string;
  repo: string;
  steps: (repo: string) => Step<Session>[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function sha512(data: Buffer): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

const uploadStart = (repo: string): string => `/v2/${repo}/blobs/uploads/`;
const blobPath = (repo: string, digest: string): string => `/v2/${repo}/blobs/${digest}`;
/** `<loc>?digest=` or `<loc>&digest=`, whatever the Location already carries. */
const withDigest = (loc: string, digest: string): string => `${loc}${loc.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;

/** POST that opens a session and saves its Location. */
function open(repo: string): Step<Session> {
  return {
    name: 'POST opens a session',
    call: { method: 'POST', path: uploadStart(repo) },
    expect: {
      status: 202,
      headers: { location: new RegExp(`/v2/${repo}/blobs/uploads/[0-9a-f-]{36}`), range: '0-0', 'docker-upload-uuid': UUID, 'content-length': '0' },
    },
    then: saveSession,
  };
}

function saveSession(reply: { headers: Headers }, s: Session): void {
  s.loc = locationPath(reply.headers.get('location'));
  s.uuid = reply.headers.get('docker-upload-uuid') ?? '';
  assert.ok(s.loc.includes(s.uuid), `Location ${s.loc} names the session ${s.uuid}`);
}

function patch(name: string, data: Buffer, range: string | undefined, expectedRange: string, status = 202): Step<Session> {
  return {
    name,
    call: (s) => ({ method: 'PATCH', path: s.loc, body: data, headers: { 'Content-Type': 'application/octet-stream', ...(range ? { 'Content-Range': range } : {}) } }),
    expect: (s) => ({ status, headers: { range: expectedRange, location: new RegExp(`${s.uuid}`), 'docker-upload-uuid': s.uuid } }),
    then: (reply, s) => { if (status === 202) saveSession(reply, s); },
  };
}

function status(expectedRange: string): Step<Session> {
  return {
    name: `GET status -> 204 Range ${expectedRange}`,
    call: (s) => ({ method: 'GET', path: s.loc }),
    expect: (s) => ({ status: 204, empty: true, headers: { range: expectedRange, 'docker-upload-uuid': s.uuid, location: new RegExp(s.uuid) } }),
  };
}

function finish(repo: string, b: { digest: string }, body?: Buffer, headers: Record<string, string> = {}): Step<Session> {
  return {
    name: `PUT ?digest=${b.digest.slice(0, 15)} -> 201`,
    call: (s) => ({ method: 'PUT', path: withDigest(s.loc, b.digest), headers: { 'Content-Type': 'application/octet-stream', ...headers }, ...(body ? { body } : {}) }),
    expect: { status: 201, headers: { location: new RegExp(`/v2/${repo}/blobs/${b.digest}$`), 'docker-content-digest': b.digest } },
  };
}

function fetchBack(repo: string, b: { digest: string; data: Buffer }): Step<Session> {
  return {
    name: 'GET the blob back',
    call: { method: 'GET', path: blobPath(repo, b.digest) },
    expect: { status: 200, body: b.data, headers: { 'docker-content-digest': b.digest, 'content-length': String(b.data.length) } },
  };
}

function gone(name: string, call: (s: Session) => Call, code = 'BLOB_UPLOAD_UNKNOWN'): Step<Session> {
  return { name, call, expect: { status: 404, code } };
}

const big = randomBlob(100);
const piece = (start: number, end: number): Buffer => big.data.subarray(start, end + 1);
const mono = randomBlob(2048);
const single = randomBlob(300);
const emptyBlob = blob(Buffer.alloc(0));
const streamed = randomBlob(3000);
const s512data = randomBlob(777).data;
const s512 = { data: s512data, digest: sha512(s512data) };

const scenarios: Scenario[] = [
  {
    name: 'monolithic POST ?digest= -> 201', repo: 'up/mono',
    steps: (repo): Step<Session>[] => [
      {
        name: 'POST with body and digest',
        call: { method: 'POST', path: `${uploadStart(repo)}?digest=${mono.digest}`, body: mono.data, headers: { 'Content-Type': 'application/octet-stream' } },
        expect: { status: 201, headers: { location: new RegExp(`^http://127\\.0\\.0\\.1:\\d+/v2/${repo}/blobs/${mono.digest}$`), 'docker-content-digest': mono.digest, 'content-length': '0' } },
      },
      fetchBack(repo, mono),
      { name: 'HEAD reports the size', call: { method: 'HEAD', path: blobPath(repo, mono.digest) }, expect: { status: 200, headers: { 'content-length': '2048' } } },
    ],
  },
  {
    name: 'POST then a single PUT with the body', repo: 'up/single',
    steps: (repo): Step<Session>[] => [open(repo), finish(repo, single, single.data), fetchBack(repo, single)],
  },
  {
    name: 'POST then PUT with no body stores an empty blob', repo: 'up/empty',
    steps: (repo): Step<Session>[] => [open(repo), finish(repo, emptyBlob), fetchBack(repo, emptyBlob)],
  },
  {
    name: 'chunked PATCH with Content-Range, status, PUT', repo: 'up/chunked',
    steps: (repo): Step<Session>[] => [
      open(repo),
      patch('PATCH 0-39', piece(0, 39), '0-39', '0-39'),
      status('0-39'),
      patch('PATCH 40-89', piece(40, 89), '40-89', '0-89'),
      status('0-89'),
      finish(repo, big, piece(90, 99), { 'Content-Range': '90-99' }),
      fetchBack(repo, big),
      gone('the finished session is gone', (s) => ({ method: 'GET', path: s.loc })),
    ],
  },
  {
    name: 'out-of-order Content-Range -> 416, the session is unchanged and still usable', repo: 'up/order',
    steps: (repo): Step<Session>[] => [
      open(repo),
      patch('PATCH 0-39', piece(0, 39), '0-39', '0-39'),
      patch('PATCH with a gap (50-59) -> 416', piece(50, 59), '50-59', '0-39', 416),
      patch('PATCH overlapping (0-9) -> 416', piece(0, 9), '0-9', '0-39', 416),
      patch('PATCH 30-49 (rewinds) -> 416', piece(30, 49), '30-49', '0-39', 416),
      patch('Content-Range longer than the body -> 416', piece(40, 44), '40-49', '0-39', 416),
      {
        name: 'PUT with an out-of-order Content-Range -> 416',
        call: (s) => ({ method: 'PUT', path: withDigest(s.loc, big.digest), body: piece(50, 99), headers: { 'Content-Range': '50-99' } }),
        expect: (s) => ({ status: 416, headers: { range: '0-39', 'docker-upload-uuid': s.uuid } }),
      },
      gone('nothing was stored by the refused PUT', () => ({ method: 'GET', path: blobPath(repo, big.digest) }), 'BLOB_UNKNOWN'),
      status('0-39'),
      patch('PATCH 40-99 continues', piece(40, 99), '40-99', '0-99'),
      finish(repo, big),
      fetchBack(repo, big),
    ],
  },
  {
    name: 'first chunk not starting at 0 -> 416', repo: 'up/first',
    steps: (repo): Step<Session>[] => [
      open(repo),
      patch('PATCH 10-19 on an empty session -> 416', piece(10, 19), '10-19', '0-0', 416),
      status('0-0'),
      patch('PATCH 0-99', big.data, '0-99', '0-99'),
      finish(repo, big),
      fetchBack(repo, big),
    ],
  },
  {
    name: 'streamed PATCH without Content-Range', repo: 'up/stream',
    steps: (repo): Step<Session>[] => [
      open(repo),
      {
        name: 'streamed PATCH (chunked)',
        call: (s) => ({ method: 'PATCH', path: s.loc, stream: [streamed.data.subarray(0, 1000), streamed.data.subarray(1000, 1500)] }),
        expect: { status: 202, headers: { range: '0-1499' } },
        then: saveSession,
      },
      patch('PATCH without Content-Range appends', streamed.data.subarray(1500, 2500), undefined, '0-2499'),
      status('0-2499'),
      {
        name: 'streamed PUT with the last chunk',
        call: (s) => ({ method: 'PUT', path: withDigest(s.loc, streamed.digest), stream: [streamed.data.subarray(2500)] }),
        expect: { status: 201, headers: { 'docker-content-digest': streamed.digest } },
      },
      fetchBack(repo, streamed),
    ],
  },
  {
    name: 'DELETE cancels a session', repo: 'up/cancel',
    steps: (repo): Step<Session>[] => [
      open(repo),
      patch('PATCH 0-39', piece(0, 39), '0-39', '0-39'),
      { name: 'DELETE -> 204', call: (s) => ({ method: 'DELETE', path: s.loc }), expect: { status: 204, empty: true } },
      gone('GET status after cancel', (s) => ({ method: 'GET', path: s.loc })),
      gone('PATCH after cancel', (s) => ({ method: 'PATCH', path: s.loc, body: piece(40, 49), headers: { 'Content-Range': '40-49' } })),
      gone('PUT after cancel', (s) => ({ method: 'PUT', path: withDigest(s.loc, big.digest), body: piece(40, 99) })),
      gone('DELETE after cancel', (s) => ({ method: 'DELETE', path: s.loc })),
      gone('nothing was stored', () => ({ method: 'GET', path: blobPath(repo, big.digest) }), 'BLOB_UNKNOWN'),
    ],
  },
  {
    name: 'PUT with the wrong digest -> 400 DIGEST_INVALID', repo: 'up/wrong',
    steps: (repo): Step<Session>[] => [
      open(repo),
      patch('PATCH 0-99', big.data, '0-99', '0-99'),
      { name: 'PUT with another digest', call: (s) => ({ method: 'PUT', path: withDigest(s.loc, single.digest) }), expect: { status: 400, code: 'DIGEST_INVALID' } },
      gone('claimed digest not stored', () => ({ method: 'GET', path: blobPath(repo, single.digest) }), 'BLOB_UNKNOWN'),
      gone('actual digest not stored', () => ({ method: 'GET', path: blobPath(repo, big.digest) }), 'BLOB_UNKNOWN'),
      { name: 'PUT without digest', call: (s) => ({ method: 'PUT', path: s.loc }), expect: { status: 400, code: 'DIGEST_INVALID' } },
      { name: 'PUT with a malformed digest', call: (s) => ({ method: 'PUT', path: withDigest(s.loc, 'sha256:1234') }), expect: { status: 400, code: 'DIGEST_INVALID' } },
      { name: 'PUT with an unsupported algorithm', call: (s) => ({ method: 'PUT', path: withDigest(s.loc, `md5:${'a'.repeat(32)}`) }), expect: { status: 400, code: 'DIGEST_INVALID' } },
    ],
  },
  {
    name: 'sha512 digests: chunked upload and GET', repo: 'up/sha512',
    steps: (repo): Step<Session>[] => [
      open(repo),
      {
        name: 'PATCH all',
        call: (s) => ({ method: 'PATCH', path: s.loc, body: s512.data, headers: { 'Content-Range': `0-${s512.data.length - 1}` } }),
        expect: { status: 202, headers: { range: `0-${s512.data.length - 1}` } },
        then: saveSession,
      },
      finish(repo, s512),
      fetchBack(repo, s512),
      {
        name: 'sha512 blob HEAD',
        call: { method: 'HEAD', path: blobPath(repo, s512.digest) },
        expect: { status: 200, headers: { 'docker-content-digest': s512.digest, etag: `"${s512.digest}"`, 'content-length': String(s512.data.length) } },
      },
    ],
  },
  {
    name: 'sha512 digests: monolithic POST', repo: 'up/sha512mono',
    steps: (repo): Step<Session>[] => [
      {
        name: 'POST ?digest=sha512:...',
        call: { method: 'POST', path: `${uploadStart(repo)}?digest=${s512.digest}`, body: s512.data },
        expect: { status: 201, headers: { 'docker-content-digest': s512.digest, location: new RegExp(`/v2/${repo}/blobs/${s512.digest}$`) } },
      },
      fetchBack(repo, s512),
      {
        name: 'POST with a wrong sha512 digest',
        call: { method: 'POST', path: `${uploadStart(repo)}?digest=${sha512(Buffer.from('other'))}`, body: s512.data },
        expect: { status: 400, code: 'DIGEST_INVALID' },
      },
    ],
  },
];

interface Row {
  name: string;
  call: Call | (() => Call);
  expect: Expect;
}

const callOf = (row: Row): Call => (typeof row.call === 'function' ? row.call() : row.call);

const badSessionRows = (repo: string, foreign: () => string): Row[] => [
  ...['GET', 'PATCH', 'PUT', 'DELETE'].flatMap((method): Row[] => [
    { name: `${method} unknown session id`, call: { method, path: `${uploadStart(repo)}${UNKNOWN_UPLOAD}${method === 'PUT' ? `?digest=${big.digest}` : ''}`, ...(method === 'PATCH' ? { body: 'x' } : {}) }, expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' } },
    { name: `${method} garbage session id`, call: { method, path: `${uploadStart(repo)}not-a-session${method === 'PUT' ? `?digest=${big.digest}` : ''}`, ...(method === 'PATCH' ? { body: 'x' } : {}) }, expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' } },
  ]),
  { name: 'GET %2e%2e as session id', call: { method: 'GET', path: `${uploadStart(repo)}%2e%2e`, raw: true }, expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' } },
  { name: 'PATCH %2e%2e as session id', call: { method: 'PATCH', path: `${uploadStart(repo)}%2e%2e`, raw: true, body: 'x' }, expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' } },
  { name: 'GET a session of another repository', call: () => ({ method: 'GET', path: foreign() }), expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' } },
  { name: 'PATCH a session of another repository', call: () => ({ method: 'PATCH', path: foreign(), body: 'abc', headers: { 'Content-Range': '0-2' } }), expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' } },
  { name: 'POST with a malformed ?digest=', call: { method: 'POST', path: `${uploadStart(repo)}?digest=sha256:xyz`, body: 'abc' }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'POST with an empty ?digest=', call: { method: 'POST', path: `${uploadStart(repo)}?digest=`, body: 'abc' }, expect: { status: 400, code: 'DIGEST_INVALID' } },
];

for (const driver of DRIVERS) {
  describe(`blob uploads (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => { reg = await startTestRegistry({ storage: driver }); });
    after(async () => { await reg.close(); });

    for (const sc of scenarios) {
      it(sc.name, async () => {
        await runSteps(reg.url, { loc: '', uuid: '' }, sc.steps(sc.repo));
      });
    }

    describe('unknown, garbage and foreign sessions', () => {
      let foreignSession = '';
      before(async () => {
        const res = await fetch(`${reg.url}${uploadStart('up/owner')}`, { method: 'POST' });
        assert.equal(res.status, 202);
        const id = res.headers.get('docker-upload-uuid') ?? '';
        foreignSession = `${uploadStart('up/thief')}${id}`;
      });
      for (const row of badSessionRows('up/bad', () => foreignSession)) {
        it(row.name, async () => { await check(reg.url, callOf(row), row.expect, row.name); });
      }
      it('the foreign session is intact in its own repository', async () => {
        const owner = foreignSession.replace('up/thief', 'up/owner');
        await check(reg.url, { method: 'GET', path: owner }, { status: 204, headers: { range: '0-0' } });
      });
    });

    it('monolithic POST with the wrong digest -> 400 DIGEST_INVALID and nothing stored', async () => {
      const b = randomBlob(512);
      const claimed = blob('something else');
      const filesBefore = reg.root ? await filesUnder(reg.root) : [];
      await check(reg.url, { method: 'POST', path: `${uploadStart('up/monowrong')}?digest=${claimed.digest}`, body: b.data }, { status: 400, code: 'DIGEST_INVALID' });
      await check(reg.url, { method: 'GET', path: blobPath('up/monowrong', claimed.digest) }, { status: 404, code: 'BLOB_UNKNOWN' });
      await check(reg.url, { method: 'GET', path: blobPath('up/monowrong', b.digest) }, { status: 404, code: 'BLOB_UNKNOWN' });
      if (reg.root) {
        assert.equal(existsSync(blobDataPath(reg.root, b.digest)), false, 'blob data of the body');
        assert.equal(existsSync(blobDataPath(reg.root, claimed.digest)), false, 'blob data of the claimed digest');
        assert.deepEqual(await filesUnder(reg.root), filesBefore, 'no file left behind (upload data included)');
      }
    });

    describe('cross-repository mount', () => {
      const shared = randomBlob(400);
      const unlinked = randomBlob(64);
      before(async () => {
        await pushBlob(reg.url, 'mnt/source', shared);
        await pushBlob(reg.url, 'mnt/elsewhere', unlinked);
      });

      it('mount from a repository that has the blob -> 201', async () => {
        await runSteps<Session>(reg.url, { loc: '', uuid: '' }, [
          {
            name: 'POST ?mount=&from=',
            call: { method: 'POST', path: `${uploadStart('mnt/target')}?mount=${shared.digest}&from=mnt/source` },
            expect: { status: 201, headers: { location: new RegExp(`/v2/mnt/target/blobs/${shared.digest}$`), 'docker-content-digest': shared.digest } },
          },
          fetchBack('mnt/target', shared),
        ]);
      });

      const fallback = (name: string, query: string, repo: string, b: Blob): void => {
        it(name, async () => {
          await runSteps<Session>(reg.url, { loc: '', uuid: '' }, [
            {
              name: 'POST mount falls back to a fresh session',
              call: { method: 'POST', path: `${uploadStart(repo)}${query}` },
              expect: { status: 202, headers: { location: new RegExp(`/v2/${repo}/blobs/uploads/[0-9a-f-]{36}`), 'docker-upload-uuid': UUID, range: '0-0' } },
              then: saveSession,
            },
            status('0-0'),
            finish(repo, b, b.data),
            fetchBack(repo, b),
          ]);
        });
      };
      fallback('mount from a repository without the blob -> 202 and a usable session', `?mount=${shared.digest}&from=mnt/empty`, 'mnt/t2', shared);
      fallback('mount of a blob the source has not linked -> 202', `?mount=${unlinked.digest}&from=mnt/source`, 'mnt/t3', unlinked);
      fallback('mount of an unknown digest -> 202', `?mount=${big.digest}&from=mnt/source`, 'mnt/t4', big);
      fallback('mount without from -> 202', `?mount=${shared.digest}`, 'mnt/t5', shared);

      const rows: Row[] = [
        { name: 'mount with a malformed digest -> 400 DIGEST_INVALID', call: { method: 'POST', path: `${uploadStart('mnt/t6')}?mount=sha256:nope&from=mnt/source` }, expect: { status: 400, code: 'DIGEST_INVALID' } },
        { name: 'mount from an invalid name -> 400 NAME_INVALID', call: { method: 'POST', path: `${uploadStart('mnt/t6')}?mount=${shared.digest}&from=Mnt/../source` }, expect: { status: 400, code: 'NAME_INVALID' } },
        { name: 'a failed mount did not link the blob', call: { method: 'GET', path: blobPath('mnt/t6', shared.digest) }, expect: { status: 404, code: 'BLOB_UNKNOWN' } },
      ];
      for (const row of rows) it(row.name, async () => { await check(reg.url, callOf(row), row.expect, row.name); });
    });
  });
}
