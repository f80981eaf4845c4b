// Request targets written byte for byte (no client library normalises them) against every route
// of the registry API, with htpasswd and with token auth, directly and through nginx passing the
// target on as sent. Odd forms of a path (a fragment, percent-encoded fixed segments, dot
// segments, doubled slashes, absolute-form, case variants) must never reach a handler the gate
// has not judged: each is refused without credentials, and the storage tree stays as it was.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { basic, image, PASSWORD, pushWith, seed, startAuthRegistry, token, type AuthRegistry } from './support.js';
import { exchangeOn, openSocket, type RawExchange } from '../robustness/support/raw-http.js';
import { assertUnchanged, snapshot } from '../robustness/support/storage-snapshot.js';
import { blob } from '../support/oci-fixtures.js';
import { freePort, removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { startNginx, type NginxProcess } from '../e2e/support/nginx-process.js';
import { makeTestCa } from '../e2e/support/test-ca.js';
import { parseRequestTarget } from '../../src/http/request-target.js';
import { RegistryError } from '../../src/errors/index.js';

const REPO = 'team/app';

interface Endpoint {
  method: string;
  /** The path after `/v2/`. */
  rest: string;
  body?: Buffer;
  contentType?: string;
  /** Answered to anonymous callers too (filtered to what they may see). */
  anonymous?: boolean;
}

/** Ways of writing the target `/v2/<rest>` that a client library would never send. */
const FORMS: Array<{ name: string; target: (rest: string, host: string) => string; refused: boolean }> = [
  { name: 'fragment right after /v2', target: (r) => `/v2#${r}`, refused: true },
  { name: 'fragment at the end', target: (r) => `/v2/${r}#x`, refused: true },
  { name: 'fragment after a slash', target: (r) => `/v2/#/${r}`, refused: true },
  { name: "encoded 'v' in /v2", target: (r) => `/%762/${r}`, refused: true },
  { name: "encoded '2' in /v2", target: (r) => `/v%32/${r}`, refused: true },
  { name: 'encoded slash after /v2', target: (r) => `/v2%2F${r}`, refused: true },
  { name: 'encoded slash in the name', target: (r) => `/v2/${r.replace('team/app', 'team%2fapp')}`, refused: true },
  { name: 'encoded letter in the name', target: (r) => `/v2/${r.replace('team', 'te%61m')}`, refused: true },
  { name: 'encoded fixed segment', target: (r) => `/v2/${r.replace(/(manifests|blobs|tags|referrers|_catalog)/, (m) => `%${m.charCodeAt(0).toString(16)}${m.slice(1)}`)}`, refused: true },
  { name: 'dot segment', target: (r) => `/v2/./${r}`, refused: true },
  { name: 'dot-dot segment', target: (r) => `/v2/x/../${r}`, refused: true },
  { name: 'leading dot-dot', target: (r) => `/../v2/${r}`, refused: true },
  { name: 'encoded dot segment', target: (r) => `/v2/%2e/${r}`, refused: true },
  { name: 'encoded dot-dot segment', target: (r) => `/v2/x/%2E%2E/${r}`, refused: true },
  { name: 'doubled slash before v2', target: (r) => `//v2/${r}`, refused: true },
  { name: 'doubled slash after v2', target: (r) => `/v2//${r}`, refused: true },
  { name: 'doubled slash in the name', target: (r) => `/v2/${r.replace('team/app', 'team//app')}`, refused: true },
  { name: 'backslash', target: (r) => `/v2\\${r}`, refused: true },
  { name: 'semicolon parameter', target: (r) => `/v2;x=1/${r}`, refused: true },
  { name: 'absolute-form', target: (r, host) => `http://${host}/v2/${r}`, refused: true },
  { name: 'absolute-form, other host', target: (r) => `http://evil.example/v2/${r}`, refused: true },
  { name: 'upper-case V2', target: (r) => `/V2/${r}`, refused: false },
  { name: 'upper-case name', target: (r) => `/v2/${r.replace('team/app', 'TEAM/app')}`, refused: false },
  { name: 'trailing slash', target: (r) => `/v2/${r}/`, refused: false },
  { name: 'question mark right after /v2', target: (r) => `/v2?/${r}`, refused: false },
  { name: 'as sent by a client', target: (r) => `/v2/${r}`, refused: false },
];

function endpoints(digest: string, uploadId: string, manifest: Buffer): Endpoint[] {
  return [
    { method: 'GET', rest: `${REPO}/manifests/v1` },
    { method: 'HEAD', rest: `${REPO}/manifests/v1` },
    { method: 'PUT', rest: `${REPO}/manifests/v1`, body: manifest, contentType: 'application/vnd.oci.image.manifest.v1+json' },
    { method: 'DELETE', rest: `${REPO}/manifests/${digest}` },
    { method: 'GET', rest: `${REPO}/blobs/${digest}` },
    { method: 'DELETE', rest: `${REPO}/blobs/${digest}` },
    { method: 'POST', rest: `${REPO}/blobs/uploads/` },
    { method: 'POST', rest: `${REPO}/blobs/uploads/?digest=${blob('smuggled').digest}`, body: Buffer.from('smuggled'), contentType: 'application/octet-stream' },
    { method: 'PATCH', rest: `${REPO}/blobs/uploads/${uploadId}`, body: Buffer.from('more bytes'), contentType: 'application/octet-stream' },
    { method: 'PUT', rest: `${REPO}/blobs/uploads/${uploadId}?digest=${digest}` },
    { method: 'DELETE', rest: `${REPO}/blobs/uploads/${uploadId}` },
    { method: 'GET', rest: `${REPO}/tags/list` },
    { method: 'GET', rest: `${REPO}/referrers/${digest}` },
    { method: 'GET', rest: '_catalog', anonymous: true },
  ];
}

function requestBytes(method: string, target: string, host: string, body?: Buffer, contentType?: string): Buffer {
  const head = [`${method} ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  if (body) head.push(`Content-Length: ${body.length}`, `Content-Type: ${contentType ?? 'application/octet-stream'}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body ?? Buffer.alloc(0)]);
}

type Send = (bytes: Buffer) => Promise<RawExchange>;

interface Mode {
  name: string;
  registry: () => AuthRegistry;
  send: () => Send;
  host: () => string;
  /** Statuses that refuse an unauthenticated request (the gate's, or the proxy's own). */
  refusals: number[];
}

async function prepare(reg: AuthRegistry, authorization: string): Promise<{ digest: string; uploadId: string; manifest: Buffer }> {
  const img = image();
  assert.equal(await pushWith(reg.url, REPO, 'v1', img, authorization), 201);
  const start = await fetch(`${reg.url}/v2/${REPO}/blobs/uploads/`, { method: 'POST', headers: { Authorization: authorization } });
  await start.arrayBuffer();
  assert.equal(start.status, 202);
  const uploadId = new URL(start.headers.get('location')!, reg.url).pathname.split('/').pop()!;
  return { digest: img.manifest.digest, uploadId, manifest: image().manifest.body };
}

function checkAll(mode: Mode): void {
  describe(`raw request targets, ${mode.name}`, () => {
    let fixture: { digest: string; uploadId: string; manifest: Buffer };
    before(async () => {
      const reg = mode.registry();
      fixture = await prepare(reg, mode.name.startsWith('token') ? `Bearer ${await token(reg, [`repository:${REPO}:pull,push`], basic('bob', PASSWORD))}` : basic('bob', PASSWORD));
    });

    for (const form of FORMS) {
      it(`refuses every route written with ${form.name}, without touching storage`, async () => {
        const reg = mode.registry();
        const before = await snapshot(reg.root!);
        const failures: string[] = [];
        for (const e of endpoints(fixture.digest, fixture.uploadId, fixture.manifest)) {
          const target = form.target(e.rest, mode.host());
          const { responses, received } = await mode.send()(requestBytes(e.method, target, mode.host(), e.body, e.contentType));
          // The status line alone: a HEAD answer's Content-Length has no body after it.
          const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received.toString('latin1'))?.[1] ?? 0);
          // A form that does not apply to this route (no name to rewrite) leaves the target as is.
          const odd = form.refused && target !== `/v2/${e.rest}`;
          const allowed = odd && !mode.name.includes('nginx') ? [400, 404] : [...mode.refusals, ...(e.anonymous ? [200] : [])];
          if (!allowed.includes(status)) failures.push(`${e.method} ${target} -> ${status} (expected ${allowed.join('/')})`);
          if (status === 200 && received.toString('latin1').includes(REPO)) failures.push(`${e.method} ${target}: an anonymous answer names ${REPO}`);
          if (status === 400 && odd && e.method !== 'HEAD' && responses[0]!.headers['content-type']?.includes('json')) {
            const code = (JSON.parse(responses[0]!.body.toString()) as { errors: Array<{ code: string }> }).errors[0]?.code;
            if (!code) failures.push(`${e.method} ${target}: 400 without the OCI error JSON`);
          }
        }
        assert.deepEqual(failures, []);
        assertUnchanged(before, await snapshot(reg.root!), form.name);
      });
    }
  });
}

describe('request targets are read once, the same way by the gate and the router', () => {
  it('keeps a canonical target byte for byte and names its route', () => {
    const t = parseRequestTarget('/v2/team/app/manifests/sha256%3Aab?n=1', '');
    assert.equal(t.path, '/v2/team/app/manifests/sha256%3Aab');
    assert.equal(t.query, 'n=1');
    assert.equal(t.api?.match?.route.name, 'manifest');
    assert.equal(t.api?.match?.param, 'sha256:ab');
    assert.equal(parseRequestTarget('/v2/', '').api?.rest, '');
    assert.equal(parseRequestTarget('/v2', '').api?.rest, '');
    assert.equal(parseRequestTarget('/api/v1/users/a%40b.c', '').api, undefined);
    assert.equal(parseRequestTarget('/reg/v2/x/tags/list', '/reg').api?.match?.route.name, 'tags');
    assert.equal(parseRequestTarget('/v2/x/tags/list', '/reg').api, undefined);
  });

  it('refuses every odd form before any route is chosen', () => {
    for (const form of FORMS.filter((f) => f.refused)) {
      for (const rest of [`${REPO}/manifests/v1`, `${REPO}/blobs/uploads/abc`, '_catalog']) {
        const target = form.target(rest, '127.0.0.1:5000');
        if (target === `/v2/${rest}`) continue;
        assert.throws(() => parseRequestTarget(target, ''), (err) => err instanceof RegistryError && err.status === 400 || (err as RegistryError).status === 404, `${form.name}: ${target}`);
      }
    }
  });
});

describe('with htpasswd and token auth, direct and through nginx', () => {
  const nginxGate = requireClients('nginx', 'openssl');
  const regs: Record<string, AuthRegistry> = {};
  let nginx: NginxProcess | undefined;
  let work: string;
  let ca: Buffer;
  const ports: Record<string, number> = {};

  before(async () => {
    for (const kind of ['basic', 'token'] as const) {
      regs[kind] = await startAuthRegistry(kind, {}, { storage: 'filesystem' });
      await seed(regs[kind].store);
    }
    if (nginxGate.skip) return;
    nginxGate.assertPresent();
    work = await tempDir('targets-nginx');
    const testCa = await makeTestCa(work);
    ca = await readFile(testCa.caCert);
    for (const kind of ['basic', 'token']) ports[kind] = await freePort();
    nginx = await startNginx({
      dir: join(work, 'nginx'), cert: testCa.serverCert, key: testCa.serverKey, ca: testCa.caCert,
      servers: ['basic', 'token'].map((kind) => ({
        port: ports[kind]!, upstream: regs[kind]!.host, location: '/', headers: [['Host', '$http_host'], ['X-Forwarded-Proto', '$scheme']] as [string, string][],
      })),
    });
  });
  after(async () => {
    await nginx?.stop();
    for (const reg of Object.values(regs)) await reg.close();
    await removeDir(work);
  });

  for (const kind of ['basic', 'token'] as const) {
    checkAll({
      name: kind === 'basic' ? 'htpasswd' : 'token',
      registry: () => regs[kind]!,
      host: () => regs[kind]!.host,
      send: () => async (bytes) => exchangeOn(await openSocket(regs[kind]!.url), bytes),
      refusals: [400, 401, 404],
    });
    describe(`through nginx (${kind})`, { skip: nginxGate.skip }, () => {
      checkAll({
        name: `${kind === 'basic' ? 'htpasswd' : 'token'} through nginx`,
        registry: () => regs[kind]!,
        host: () => `127.0.0.1:${ports[kind]!}`,
        send: () => (bytes) => new Promise((resolve, reject) => {
          const socket = tlsConnect({ host: '127.0.0.1', port: ports[kind]!, ca, servername: 'localhost' }, () => resolve(exchangeOn(socket, bytes)));
          socket.once('error', reject);
        }),
        refusals: [400, 401, 404],
      });
    });
  }
});
