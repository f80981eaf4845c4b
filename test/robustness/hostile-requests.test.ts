// Malformed and hostile requests, as a table: each row is a request (through fetch, or written
// byte for byte on a socket), the OCI error it must get, and a fingerprint of the whole storage
// tree (every path and content hash) taken before and after, which must not change.
// test/api checks the grammar of names, tags and digests endpoint by endpoint; the rows here are
// what it leaves out: lying framing, smuggling, oversized and undecodable input, broken
// manifests, refused writes against sessions that already hold data, and bodies that stop.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, indexManifest, OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, sha256, type Blob } from '../support/oci-fixtures.js';
import { pushBlob, pushImage } from '../support/push.js';
import { errorBody, locationPath, send, type Call } from '../support/api-table.js';
import { rawExchange, head, openSocket, type RawResponse } from './support/raw-http.js';
import { assertUnchanged, snapshot, type Snapshot } from './support/storage-snapshot.js';

const REPO = 'seed/app';
const config = blob('{"os":"linux","architecture":"amd64"}');
const layer = blob(randomBytes(2048));
const img = imageManifest(config, [layer]);
/** Linked only in another repository: a manifest in REPO may not reference it. */
const foreign = blob(randomBytes(512));
const missing = blob(randomBytes(100));
const chunk = randomBytes(40);
const MAX_HEADER = 16 * 1024;

/** What a row's preparation hands to its request: an upload session holding `chunk`. */
interface Vars {
  /** Path of an upload session (from its Location) that already holds `chunk`. */
  session: string;
  host: string;
}

interface Expected {
  status: number;
  code: string;
}

type Request =
  | { call: (v: Vars) => Call }
  | {
    /** The bytes written on a fresh socket. */
    raw: (v: Vars) => Buffer | string;
    /** Half-close after writing (a body that ends before its Content-Length). */
    end?: boolean;
    /** Destroy the socket this long after writing (a client that vanishes). */
    destroyAfterMs?: number;
    /** Later responses on the same connection (after the first), if any must come. */
    more?: Expected[];
  };

type HostileRow = { name: string; expect: Expected | 'closed'; session?: boolean } & Request;

function withDigest(path: string, digest: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

function manifestBody(json: unknown): Buffer {
  return Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));
}

function putManifest(reference: string, body: Buffer | string, contentType = OCI_MANIFEST, name = REPO): (v: Vars) => Call {
  return () => ({ method: 'PUT', path: `/v2/${name}/manifests/${reference}`, body, headers: { 'Content-Type': contentType } });
}

const desc = (b: Blob, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip'): Record<string, unknown> => ({ mediaType, digest: b.digest, size: b.size });
const cfg = desc(config, 'application/vnd.oci.image.config.v1+json');
const base = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: cfg, layers: [desc(layer)] };

/** Arrays nested `depth` deep where the layer list should be. */
function nested(depth: number): string {
  return `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${JSON.stringify(cfg)},"layers":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

const FIVE_MIB = 5 * 1024 * 1024;
const bigManifest = manifestBody({ ...base, annotations: { pad: 'p'.repeat(FIVE_MIB) } });
const manyLayers = manifestBody({ ...base, layers: Array.from({ length: 20_000 }, () => desc(layer)) });

const MANIFEST_INVALID = { status: 400, code: 'MANIFEST_INVALID' };
const DIGEST_INVALID = { status: 400, code: 'DIGEST_INVALID' };
const NAME_INVALID = { status: 400, code: 'NAME_INVALID' };
const MALFORMED = { status: 400, code: 'UNSUPPORTED' };
const RANGE = { status: 416, code: 'RANGE_INVALID' };

const badDigests: [string, string][] = [
  ['bad algorithm', `md5:${'a'.repeat(32)}`],
  ['algorithm with upper case', `SHA256:${'a'.repeat(64)}`],
  ['hex one short', `sha256:${'a'.repeat(63)}`],
  ['hex one long', `sha256:${'a'.repeat(65)}`],
  ['sha512 with a sha256 length', `sha512:${'a'.repeat(64)}`],
  ['upper-case hex', `sha256:${'A'.repeat(64)}`],
  ['non-hex characters', `sha256:${'g'.repeat(64)}`],
  ['empty hex', 'sha256:'],
  ['no algorithm', `:${'a'.repeat(64)}`],
];

const rows: HostileRow[] = [
  // Digests on the writes test/api does not cover, against a session that holds data.
  ...badDigests.map(([why, d]): HostileRow => ({
    name: `final PUT ?digest= ${why}`, session: true, expect: DIGEST_INVALID,
    call: (v) => ({ method: 'PUT', path: withDigest(v.session, d) }),
  })),
  ...badDigests.map(([why, d]): HostileRow => ({
    name: `final PUT with a last chunk, ?digest= ${why}`, session: true, expect: DIGEST_INVALID,
    call: (v) => ({ method: 'PUT', path: withDigest(v.session, d), body: randomBytes(10), headers: { 'Content-Range': '40-49' } }),
  })),
  ...badDigests.map(([why, d]): HostileRow => ({
    name: `manifest PUT by digest, ${why}`, expect: DIGEST_INVALID,
    call: () => ({ method: 'PUT', path: `/v2/${REPO}/manifests/${encodeURIComponent(d)}`, body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }),
  })).filter((r) => !r.name.endsWith('no algorithm')),
  {
    name: 'manifest descriptor with an upper-case digest', expect: MANIFEST_INVALID,
    call: putManifest('v9', manifestBody({ ...base, layers: [{ ...desc(layer), digest: layer.digest.toUpperCase().replace('SHA256', 'sha256') }] })),
  },
  {
    name: 'manifest descriptor with an unsupported digest algorithm', expect: MANIFEST_INVALID,
    call: putManifest('v9', manifestBody({ ...base, layers: [{ ...desc(layer), digest: `md5:${'a'.repeat(32)}` }] })),
  },

  // Digest mismatches.
  {
    name: 'final PUT with the digest of other content', session: true, expect: DIGEST_INVALID,
    call: (v) => ({ method: 'PUT', path: withDigest(v.session, layer.digest) }),
  },
  {
    name: 'final PUT whose last chunk makes the digest wrong', session: true, expect: DIGEST_INVALID,
    call: (v) => ({ method: 'PUT', path: withDigest(v.session, sha256(chunk)), body: Buffer.from('extra') }),
  },
  {
    name: 'final PUT ?digest=sha512 of other content', session: true, expect: DIGEST_INVALID,
    call: (v) => ({ method: 'PUT', path: withDigest(v.session, `sha512:${createHash('sha512').update('x').digest('hex')}`) }),
  },
  {
    name: 'monolithic POST whose body does not match ?digest=', expect: DIGEST_INVALID,
    call: () => ({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?digest=${missing.digest}`, body: randomBytes(100) }),
  },
  {
    name: 'monolithic POST, streamed, whose body does not match ?digest=', expect: DIGEST_INVALID,
    call: () => ({ method: 'POST', path: `/v2/${REPO}/blobs/uploads/?digest=${missing.digest}`, stream: [randomBytes(50), randomBytes(50)] }),
  },
  {
    name: 'manifest PUT by a sha512 digest of other bytes', expect: DIGEST_INVALID,
    call: () => ({ method: 'PUT', path: `/v2/${REPO}/manifests/sha512:${createHash('sha512').update('x').digest('hex')}`, body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }),
  },

  // Content-Length that is not the body's length.
  {
    // The rest of the body is read as the next request, which does not parse: the connection
    // is answered 400 and closed before the first request's own answer.
    name: 'PATCH whose Content-Length is shorter than Content-Range and body', session: true, expect: MALFORMED,
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Range: 40-49', 'Content-Length: 5'])}0123456789`,
  },
  {
    name: 'monolithic POST whose Content-Length is shorter than the body', expect: MALFORMED,
    raw: (v) => `${head(`POST /v2/${REPO}/blobs/uploads/?digest=${sha256('0123456789')} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 5'])}0123456789`,
  },
  {
    name: 'monolithic POST whose Content-Length is shorter than the body, then a valid request', expect: DIGEST_INVALID,
    raw: (v) => `${head(`POST /v2/${REPO}/blobs/uploads/?digest=${sha256('0123456789')} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 5'])}01234${head('GET /v2/ HTTP/1.1', [`Host: ${v.host}`])}`,
    more: [{ status: 200, code: '' }],
  },
  {
    name: 'PATCH whose Content-Length is longer than the body (client half-closes)', session: true, expect: MALFORMED, end: true,
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 100'])}0123456789`,
  },
  {
    name: 'final PUT whose Content-Length is longer than the body (client half-closes)', session: true, expect: MALFORMED, end: true,
    raw: (v) => `${head(`PUT ${withDigest(v.session, sha256(Buffer.concat([chunk, Buffer.from('0123456789')])))} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 100'])}0123456789`,
  },
  {
    name: 'manifest PUT whose Content-Length is longer than the body (client half-closes)', expect: MALFORMED, end: true,
    raw: (v) => `${head(`PUT /v2/${REPO}/manifests/v7 HTTP/1.1`, [`Host: ${v.host}`, `Content-Type: ${OCI_MANIFEST}`, `Content-Length: ${img.body.length + 10}`])}${img.body.toString()}`,
  },
  {
    name: 'Content-Length that is not a number', session: true, expect: MALFORMED,
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: ten'])}0123456789`,
  },
  {
    name: 'negative Content-Length', session: true, expect: MALFORMED,
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: -10'])}0123456789`,
  },
  {
    name: 'two different Content-Length headers', session: true, expect: MALFORMED,
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 10', 'Content-Length: 5'])}0123456789`,
  },

  // Content-Range gaps, overlaps and nonsense (the session holds bytes 0-39).
  {
    name: 'PATCH leaving a gap', session: true, expect: RANGE,
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(10), headers: { 'Content-Range': '50-59' } }),
  },
  {
    name: 'PATCH overlapping what the session holds', session: true, expect: RANGE,
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(10), headers: { 'Content-Range': '35-44' } }),
  },
  {
    name: 'PATCH rewriting from byte 0', session: true, expect: RANGE,
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(40), headers: { 'Content-Range': '0-39' } }),
  },
  {
    name: 'final PUT with a gap before the last chunk', session: true, expect: RANGE,
    call: (v) => ({ method: 'PUT', path: withDigest(v.session, missing.digest), body: randomBytes(10), headers: { 'Content-Range': '41-50' } }),
  },
  {
    name: 'Content-Range whose end is before its start', session: true, expect: RANGE,
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(10), headers: { 'Content-Range': '49-40' } }),
  },
  {
    // The range itself would be the next one; only its total, smaller than its end, is a lie.
    name: 'Content-Range whose total is smaller than its end', session: true, expect: RANGE,
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(10), headers: { 'Content-Range': '40-49/45' } }),
  },
  {
    name: 'Content-Range whose total is smaller than its end, on the final PUT', session: true, expect: RANGE,
    call: (v) => ({ method: 'PUT', path: withDigest(v.session, missing.digest), body: randomBytes(10), headers: { 'Content-Range': '40-49/5' } }),
  },
  {
    name: 'Content-Range that does not parse', session: true, expect: { status: 416, code: 'BLOB_UPLOAD_INVALID' },
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(10), headers: { 'Content-Range': 'forty-fifty' } }),
  },
  {
    name: 'Content-Range with a negative start', session: true, expect: { status: 416, code: 'BLOB_UPLOAD_INVALID' },
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(10), headers: { 'Content-Range': '-40-49' } }),
  },
  {
    name: 'Content-Range past 2^53', session: true, expect: { status: 416, code: 'SIZE_INVALID' },
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(10), headers: { 'Content-Range': '40-99999999999999999999' } }),
  },
  {
    name: 'Content-Range longer than the body it comes with', session: true, expect: { status: 416, code: 'SIZE_INVALID' },
    call: (v) => ({ method: 'PATCH', path: v.session, body: randomBytes(5), headers: { 'Content-Range': '40-49' } }),
  },
  {
    name: 'Content-Range shorter than a streamed body', session: true, expect: { status: 400, code: 'SIZE_INVALID' },
    call: (v) => ({ method: 'PATCH', path: v.session, stream: [randomBytes(10), randomBytes(10)], headers: { 'Content-Range': '40-49' } }),
  },

  // Manifests that are not JSON, not objects, or have fields of the wrong type.
  ...([
    ['truncated JSON', img.body.subarray(0, img.body.length - 3)],
    ['empty body', ''],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"manifest"'],
    ['JSON null', 'null'],
    ['a byte-order mark before the JSON', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), img.body])],
    ['invalid UTF-8 inside a string', Buffer.concat([Buffer.from('{"schemaVersion":2,"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])],
    ['schemaVersion 1', manifestBody({ ...base, schemaVersion: 1 })],
    ['schemaVersion as a string', manifestBody({ ...base, schemaVersion: '2' })],
    ['no schemaVersion', manifestBody({ mediaType: OCI_MANIFEST, config: cfg, layers: [] })],
    ['layers is an object', manifestBody({ ...base, layers: { 0: desc(layer) } })],
    ['no config', manifestBody({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [desc(layer)] })],
    ['config is a string', manifestBody({ ...base, config: config.digest })],
    ['descriptor without mediaType', manifestBody({ ...base, layers: [{ digest: layer.digest, size: layer.size }] })],
    ['descriptor size negative', manifestBody({ ...base, layers: [{ ...desc(layer), size: -1 }] })],
    ['descriptor size fractional', manifestBody({ ...base, layers: [{ ...desc(layer), size: 1.5 }] })],
    ['descriptor size as a string', manifestBody({ ...base, layers: [{ ...desc(layer), size: '2048' }] })],
    ['descriptor size past 2^53', `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${JSON.stringify(cfg)},"layers":[{"mediaType":"x","digest":"${layer.digest}","size":90071992547409930}]}`],
    ['mediaType a number', manifestBody({ ...base, mediaType: 7 })],
    ['annotations with a number value', manifestBody({ ...base, annotations: { a: 1 } })],
    ['annotations an array', manifestBody({ ...base, annotations: ['a'] })],
    ['urls not strings', manifestBody({ ...base, layers: [{ ...desc(layer), urls: [1] }] })],
    ['subject not a descriptor', manifestBody({ ...base, subject: 'sha256:abc' })],
    ['index whose manifests is null', manifestBody({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: null })],
    ['layers nested 100000 arrays deep', nested(100_000)],
    ['layers nested 10 objects deep', manifestBody({ ...base, layers: [JSON.parse('{"a":'.repeat(10) + '1' + '}'.repeat(10))] })],
    ['Docker schema2 without mediaType', manifestBody({ schemaVersion: 2, config: cfg, layers: [] })],
  ] as [string, Buffer | string][]).map(([why, body]): HostileRow => ({
    name: `manifest PUT: ${why}`, expect: MANIFEST_INVALID,
    call: putManifest('broken', body, why.startsWith('Docker') ? DOCKER_MANIFEST : OCI_MANIFEST),
  })),

  // Media types Berth does not know.
  {
    name: 'unknown Content-Type and mediaType', expect: MANIFEST_INVALID,
    call: putManifest('v9', manifestBody({ ...base, mediaType: 'application/vnd.example.thing+json' }), 'application/vnd.example.thing+json'),
  },
  {
    name: 'unknown mediaType field with a generic Content-Type', expect: MANIFEST_INVALID,
    call: putManifest('v9', manifestBody({ ...base, mediaType: 'text/plain' }), 'application/json'),
  },
  {
    name: 'Content-Type that contradicts mediaType', expect: MANIFEST_INVALID,
    call: putManifest('v9', img.body, OCI_INDEX),
  },
  {
    name: 'no mediaType and an unknown Content-Type', expect: MANIFEST_INVALID,
    call: putManifest('v9', manifestBody({ schemaVersion: 2, layers: [] }), 'application/x-unknown'),
  },

  // Referenced content that is missing.
  {
    name: 'config blob missing', expect: { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    call: putManifest('v9', manifestBody({ ...base, config: desc(missing, 'application/vnd.oci.image.config.v1+json') })),
  },
  {
    name: 'one layer of three missing', expect: { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    call: putManifest('v9', manifestBody({ ...base, layers: [desc(layer), desc(missing), desc(layer)] })),
  },
  {
    name: 'layer that exists only in another repository', expect: { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    call: putManifest('v9', manifestBody({ ...base, layers: [desc(foreign)] })),
  },
  {
    name: 'index child manifest missing', expect: { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    call: putManifest('v9', indexManifest([img, imageManifest(config, [missing])]).body, OCI_INDEX),
  },
  {
    name: 'index that lists a blob as a child manifest', expect: { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    call: putManifest('v9', manifestBody({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [desc(layer, OCI_MANIFEST)] }), OCI_INDEX),
  },

  // Sizes.
  {
    name: '5 MiB manifest with Content-Length', expect: { status: 413, code: 'MANIFEST_INVALID' },
    call: putManifest('big', bigManifest),
  },
  {
    name: '5 MiB manifest streamed without Content-Length', expect: { status: 413, code: 'MANIFEST_INVALID' },
    call: () => ({ method: 'PUT', path: `/v2/${REPO}/manifests/big`, stream: Array.from({ length: 5 }, (_, i) => bigManifest.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024 + (i === 4 ? 1024 : 0))), headers: { 'Content-Type': OCI_MANIFEST } }),
  },
  {
    name: 'manifest of 20000 layers (all present, under the size limit)', expect: { status: 201, code: '' },
    call: putManifest('many', manyLayers),
  },

  // Repository names and tags.
  ...([
    ['..', `/v2/seed/../etc/manifests/v1`],
    ['%2e%2e', `/v2/seed/%2e%2e/app/manifests/v1`],
    ['%2E%2E at the start', `/v2/%2E%2E/seed/manifests/v1`],
    ['%2F', `/v2/seed%2Fapp/manifests/v1`],
    ['%2f with ..', `/v2/seed%2f..%2fapp/manifests/v1`],
    ['upper case', `/v2/Seed/App/manifests/v1`],
    ['empty component', `/v2/seed//app/manifests/v1`],
    ['empty first component', `/v2//seed/app/manifests/v1`],
    ['trailing slash on the name', `/v2/seed/app//manifests/v1`],
    ['overlong UTF-8 dots (%c0%ae)', `/v2/seed/%c0%ae%c0%ae/manifests/v1`],
    ['invalid UTF-8 (%ff)', `/v2/seed/app%ff/manifests/v1`],
    ['truncated UTF-8 (%c3)', `/v2/seed/caf%c3/manifests/v1`],
    ['NUL byte', `/v2/seed/a%00b/manifests/v1`],
    ['backslash', `/v2/seed/..%5capp/manifests/v1`],
  ] as [string, string][]).map(([why, path]): HostileRow => ({
    name: `manifest PUT under a name with ${why}`, expect: NAME_INVALID,
    raw: (v) => `${head(`PUT ${path} HTTP/1.1`, [`Host: ${v.host}`, `Content-Type: ${OCI_MANIFEST}`, `Content-Length: ${img.body.length}`, 'Connection: close'])}${img.body.toString()}`,
  })),
  {
    name: 'blob upload under a name with raw non-UTF-8 bytes', expect: MALFORMED,
    raw: (v) => Buffer.concat([Buffer.from('POST /v2/seed/'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`/blobs/uploads/ HTTP/1.1\r\nHost: ${v.host}\r\nContent-Length: 0\r\n\r\n`)]),
  },
  {
    name: 'manifest PUT with a 300-character tag', expect: MANIFEST_INVALID,
    call: putManifest('t'.repeat(300), img.body),
  },
  {
    name: 'manifest PUT with a 129-character tag', expect: MANIFEST_INVALID,
    call: putManifest('t'.repeat(129), img.body),
  },
  {
    name: 'manifest PUT with a tag that has a trailing slash', expect: { status: 404, code: 'NOT_FOUND' },
    call: putManifest('v1/', img.body),
  },
  {
    name: 'manifest PUT with a tag in invalid UTF-8 (%ff)', expect: MANIFEST_INVALID,
    raw: (v) => `${head(`PUT /v2/${REPO}/manifests/v%ff HTTP/1.1`, [`Host: ${v.host}`, `Content-Type: ${OCI_MANIFEST}`, `Content-Length: ${img.body.length}`, 'Connection: close'])}${img.body.toString()}`,
  },
  {
    name: 'manifest PUT with a tag of %2e%2e', expect: MANIFEST_INVALID,
    raw: (v) => `${head(`PUT /v2/${REPO}/manifests/%2e%2e HTTP/1.1`, [`Host: ${v.host}`, `Content-Type: ${OCI_MANIFEST}`, `Content-Length: ${img.body.length}`, 'Connection: close'])}${img.body.toString()}`,
  },
  {
    name: 'upload session id in invalid UTF-8', expect: { status: 404, code: 'BLOB_UPLOAD_UNKNOWN' },
    raw: (v) => `${head(`PATCH /v2/${REPO}/blobs/uploads/%ff%fe HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 3', 'Connection: close'])}abc`,
  },

  // Headers past http.limits.maxheaderbytes.
  {
    name: 'one header larger than maxheaderbytes', session: true, expect: { status: 431, code: 'SIZE_INVALID' },
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, `X-Pad: ${'a'.repeat(MAX_HEADER + 10)}`, 'Content-Length: 10'])}0123456789`,
  },
  {
    name: 'thousands of small headers past maxheaderbytes', session: true, expect: { status: 431, code: 'SIZE_INVALID' },
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, ...Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`), 'Content-Length: 10'])}0123456789`,
  },
  {
    name: 'a request line longer than maxheaderbytes', expect: { status: 431, code: 'SIZE_INVALID' },
    raw: (v) => head(`PUT /v2/${'a/'.repeat(MAX_HEADER)}manifests/v1 HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 0']),
  },

  // Request smuggling: a second request hidden in the body must never run (it would delete
  // the seeded tag, and the storage fingerprint would show it).
  ...([
    ['Content-Length and Transfer-Encoding', ['Content-Length: 4', 'Transfer-Encoding: chunked']],
    ['Transfer-Encoding and Content-Length', ['Transfer-Encoding: chunked', 'Content-Length: 4']],
    ['two Transfer-Encoding headers', ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity']],
    ['Transfer-Encoding: chunked, identity', ['Transfer-Encoding: chunked, identity']],
    ['Transfer-Encoding with a space before the colon', ['Transfer-Encoding : chunked', 'Content-Length: 4']],
    ['obsolete line folding of Transfer-Encoding', ['Transfer-Encoding:', ' chunked', 'Content-Length: 4']],
    ['Content-Length with a plus sign', ['Content-Length: +4']],
  ] as [string, string[]][]).map(([why, framing]): HostileRow => ({
    name: `smuggling: ${why}`, session: true, expect: MALFORMED,
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, ...framing])}0\r\n\r\n${head(`DELETE /v2/${REPO}/manifests/v1 HTTP/1.1`, [`Host: ${v.host}`])}`,
  })),
  {
    name: 'smuggling: a chunk size that overflows', session: true, expect: MALFORMED,
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Transfer-Encoding: chunked'])}fffffffffffffffffff1\r\nabcd\r\n0\r\n\r\n`,
  },
  {
    name: 'smuggling: chunk data longer than its size', session: true, expect: MALFORMED,
    raw: (v) => `${head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Transfer-Encoding: chunked'])}2\r\nabcdef\r\n0\r\n\r\n${head(`DELETE /v2/${REPO}/manifests/v1 HTTP/1.1`, [`Host: ${v.host}`])}`,
  },
  {
    name: 'a bare LF between headers', session: true, expect: MALFORMED,
    raw: (v) => `PATCH ${v.session} HTTP/1.1\r\nHost: ${v.host}\nContent-Length: 4\r\n\r\nabcd`,
  },
  {
    name: 'an unknown method', expect: MALFORMED,
    raw: (v) => head(`BREW /v2/${REPO}/manifests/v1 HTTP/1.1`, [`Host: ${v.host}`]),
  },
  {
    name: 'no Host header on HTTP/1.1', expect: MALFORMED,
    raw: () => head(`DELETE /v2/${REPO}/manifests/v1 HTTP/1.1`, []),
  },

  // Bodies that stop half way: the session keeps its last complete chunk, no blob appears.
  {
    name: 'PATCH cut off after half its Content-Length', session: true, expect: 'closed', destroyAfterMs: 150,
    raw: (v) => Buffer.concat([Buffer.from(head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Range: 40-1048615', 'Content-Length: 1048576'])), randomBytes(524_288)]),
  },
  {
    name: 'final PUT cut off after half its last chunk', session: true, expect: 'closed', destroyAfterMs: 150,
    raw: (v) => Buffer.concat([Buffer.from(head(`PUT ${withDigest(v.session, missing.digest)} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 1048576'])), randomBytes(524_288)]),
  },
  {
    name: 'chunked PATCH cut off inside a chunk', session: true, expect: 'closed', destroyAfterMs: 150,
    raw: (v) => Buffer.concat([Buffer.from(head(`PATCH ${v.session} HTTP/1.1`, [`Host: ${v.host}`, 'Transfer-Encoding: chunked'])), Buffer.from('100000\r\n'), randomBytes(300_000)]),
  },
  {
    name: 'monolithic POST cut off half way', expect: 'closed', destroyAfterMs: 150,
    raw: (v) => Buffer.concat([Buffer.from(head(`POST /v2/${REPO}/blobs/uploads/?digest=${missing.digest} HTTP/1.1`, [`Host: ${v.host}`, 'Content-Length: 1048576'])), randomBytes(524_288)]),
  },
  {
    name: 'manifest PUT cut off half way', expect: 'closed', destroyAfterMs: 150,
    raw: (v) => `${head(`PUT /v2/${REPO}/manifests/cut HTTP/1.1`, [`Host: ${v.host}`, `Content-Type: ${OCI_MANIFEST}`, `Content-Length: ${img.body.length}`])}${img.body.subarray(0, 100).toString()}`,
  },
];

function checkError(r: RawResponse | { status: number; headers: Headers; body: Buffer }, want: Expected, label: string): void {
  const get = (h: string): string | null | undefined => (r.headers instanceof Headers ? r.headers.get(h) : r.headers[h]);
  const text = r.body.toString('utf8').slice(0, 300);
  assert.equal(r.status, want.status, `${label}: status (${text})`);
  assert.equal(get('docker-distribution-api-version'), 'registry/2.0', `${label}: API version header`);
  if (want.status < 400) return;
  assert.match(get('content-type') ?? '', /^application\/json/, `${label}: error Content-Type`);
  const body = errorBody({ status: r.status, headers: new Headers(), body: r.body, method: 'GET' });
  assert.equal(body.errors[0]?.code, want.code, `${label}: error code (${text})`);
}

/** Waits (bounded) until the tree equals `before`, for requests the server finishes after answering. */
async function settledSnapshot(root: string, before: Snapshot): Promise<Snapshot> {
  let after = await snapshot(root);
  for (let i = 0; i < 40 && !sameSnapshot(before, after); i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await snapshot(root);
  }
  return after;
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

async function openSession(url: string): Promise<string> {
  const res = await fetch(`${url}/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
  await res.arrayBuffer();
  assert.equal(res.status, 202);
  const loc = locationPath(res.headers.get('location'));
  const patch = await fetch(`${url}${loc}`, { method: 'PATCH', body: chunk, headers: { 'Content-Range': `0-${chunk.length - 1}` } });
  await patch.arrayBuffer();
  assert.equal(patch.status, 202);
  return locationPath(patch.headers.get('location'));
}

describe('hostile requests change nothing stored', () => {
  let reg: TestRegistry;
  let root: string;
  before(async () => {
    reg = await startTestRegistry({ storage: 'filesystem' });
    root = reg.root!;
    await pushImage(reg.url, REPO, 'v1', config, [layer], img);
    await pushBlob(reg.url, 'other/repo', foreign);
  });
  after(async () => reg.close());

  for (const row of rows) {
    it(row.name, async () => {
      const vars: Vars = { session: row.session ? await openSession(reg.url) : '', host: reg.host };
      const before = await snapshot(root);
      if ('call' in row) {
        const reply = await send(reg.url, row.call(vars));
        assert.notEqual(row.expect, 'closed');
        checkError(reply, row.expect as Expected, row.name);
      } else {
        const bytes = row.raw(vars);
        let exchange;
        if (row.destroyAfterMs !== undefined) {
          const socket = await openSocket(reg.url);
          socket.write(bytes);
          await new Promise((r) => setTimeout(r, row.destroyAfterMs));
          socket.destroy();
        } else {
          exchange = await rawExchange(reg.url, bytes, { endAfterWrite: row.end ?? false, expectResponses: 1 + (row.more?.length ?? 0) });
          assert.notEqual(row.expect, 'closed');
          const [first, ...rest] = exchange.responses;
          assert.ok(first, `${row.name}: no response; received ${JSON.stringify(exchange.received.toString('latin1').slice(0, 200))}`);
          checkError(first, row.expect as Expected, row.name);
          (row.more ?? []).forEach((want, i) => {
            const r = rest[i];
            assert.ok(r, `${row.name}: response ${i + 2} missing`);
            checkError(r, want, `${row.name} (response ${i + 2})`);
          });
        }
      }
      if (row.expect !== 'closed' && row.expect.status < 300) return;
      assertUnchanged(before, await settledSnapshot(root, before), row.name);
      if (row.session) {
        const status = await fetch(`${reg.url}${vars.session}`);
        await status.arrayBuffer();
        assert.equal(status.status, 204, 'the session is still there');
        assert.equal(status.headers.get('range'), `0-${chunk.length - 1}`, 'and holds exactly its last complete chunk');
      }
      const v1 = await fetch(`${reg.url}/v2/${REPO}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(v1.status, 200, 'the seeded tag still resolves');
      assert.deepEqual(Buffer.from(await v1.arrayBuffer()), img.body);
    });
  }
});

