// Request bodies that stall, trickle, or are never read, and clients that open too many
// connections. Short timeouts (http.timeouts.bodyidle of 1 s) keep the tests fast; the rates
// used are far from the limits, so a starved CPU cannot turn a pass into a fail.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { errorBody, locationPath } from '../support/api-table.js';
import { sha256 } from '../support/oci-fixtures.js';
import { exchangeOn, head, openSocket, parseResponses, rawExchange, type RawExchange } from './support/raw-http.js';
import { assertUnchanged, snapshot } from './support/storage-snapshot.js';
import { startAuthRegistry, type AuthRegistry } from '../auth/support.js';

const REPO = 'slow/app';
const IDLE_MS = 1000;
const first = randomBytes(40);

async function openSession(url: string): Promise<string> {
  const res = await fetch(`${url}/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
  await res.arrayBuffer();
  assert.equal(res.status, 202);
  const patch = await fetch(`${url}${locationPath(res.headers.get('location'))}`, { method: 'PATCH', body: first, headers: { 'Content-Range': `0-${first.length - 1}` } });
  await patch.arrayBuffer();
  assert.equal(patch.status, 202);
  return locationPath(patch.headers.get('location'));
}

async function sessionRange(url: string, session: string): Promise<string | null> {
  const res = await fetch(`${url}${session}`);
  await res.arrayBuffer();
  assert.equal(res.status, 204, 'the session still exists');
  return res.headers.get('range');
}

/** Writes `head`, then `pieces` one every `everyMs`, then `tail`; resolves with what the server answered. */
async function trickle(base: string, start: string, pieces: Buffer[], everyMs: number, tail: string | undefined, timeoutMs: number): Promise<RawExchange> {
  const socket: Socket = await openSocket(base);
  socket.on('error', () => undefined);
  const answer = exchangeOn(socket, start, { timeoutMs, expectResponses: tail === undefined ? undefined : 1 });
  for (const piece of pieces) {
    await new Promise((r) => setTimeout(r, everyMs));
    if (socket.destroyed) break;
    socket.write(piece);
  }
  if (tail !== undefined && !socket.destroyed) socket.write(tail);
  return answer;
}

function chunked(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
}

describe('request bodies that stall or trickle (http.timeouts.bodyidle)', () => {
  let reg: TestRegistry;
  before(async () => { reg = await startTestRegistry({ storage: 'filesystem', env: { REGISTRY_HTTP_TIMEOUTS_BODYIDLE: `${IDLE_MS}ms` } }); });
  after(async () => reg.close());

  it('a chunked PATCH that keeps moving for longer than the idle timeout succeeds', async () => {
    const session = await openSession(reg.url);
    // 30 pieces, one every 100 ms: three idle timeouts in total, never one without a byte.
    const pieces = Array.from({ length: 30 }, () => randomBytes(10));
    const start = head(`PATCH ${session} HTTP/1.1`, [`Host: ${reg.host}`, 'Transfer-Encoding: chunked']);
    const exchange = await trickle(reg.url, start, pieces.map(chunked), 100, '0\r\n\r\n', 20_000);
    const [res] = exchange.responses;
    assert.ok(res, `no answer: ${exchange.received.toString('latin1').slice(0, 200)}`);
    assert.equal(res.status, 202, res.body.toString());
    const all = Buffer.concat([first, ...pieces]);
    assert.equal(res.headers.range, `0-${all.length - 1}`);
    const done = await fetch(`${reg.url}${session}${session.includes('?') ? '&' : '?'}digest=${sha256(all)}`, { method: 'PUT' });
    await done.arrayBuffer();
    assert.equal(done.status, 201, 'the slowly sent chunk completes the blob');
    const blob = await fetch(`${reg.url}/v2/${REPO}/blobs/${sha256(all)}`);
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), all);
  });

  it('a PATCH whose body stalls is answered 408 and closed, and the session keeps its last complete chunk', async () => {
    const session = await openSession(reg.url);
    const before = await snapshot(reg.root!);
    const start = head(`PATCH ${session} HTTP/1.1`, [`Host: ${reg.host}`, 'Content-Range: 40-139', 'Content-Length: 100']);
    // Ten bytes of the hundred announced, then nothing.
    const exchange = await rawExchange(reg.url, Buffer.concat([Buffer.from(start), randomBytes(10)]), { timeoutMs: 20_000 });
    assert.ok(exchange.closedByServer, 'the server closed the stalled connection');
    const [res] = exchange.responses;
    assert.ok(res, `no answer before the close: ${exchange.received.toString('latin1').slice(0, 200)}`);
    assert.equal(res.status, 408);
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.equal(errorBody({ status: 408, headers: new Headers(), body: res.body, method: 'PATCH' }).errors[0]?.code, 'UNAVAILABLE');
    // The ten bytes that came are not kept: the session is as it was, and goes on from byte 40.
    await waitUntilUnchanged(reg.root!, before);
    assert.equal(await sessionRange(reg.url, session), `0-${first.length - 1}`);
    const next = await fetch(`${reg.url}${session}`, { method: 'PATCH', body: randomBytes(10), headers: { 'Content-Range': '40-49' } });
    await next.arrayBuffer();
    assert.equal(next.status, 202, 'the session is still usable');
  });

  it('a chunked PATCH that stalls between chunks is cut too', async () => {
    const session = await openSession(reg.url);
    const start = head(`PATCH ${session} HTTP/1.1`, [`Host: ${reg.host}`, 'Transfer-Encoding: chunked']);
    const exchange = await rawExchange(reg.url, Buffer.concat([Buffer.from(start), chunked(randomBytes(10))]), { timeoutMs: 20_000 });
    assert.ok(exchange.closedByServer, 'the server closed the stalled connection');
    assert.equal(exchange.responses[0]?.status, 408);
    assert.equal(await sessionRange(reg.url, session), `0-${first.length - 1}`);
  });
});

async function waitUntilUnchanged(root: string, before: Map<string, string>): Promise<void> {
  let after = await snapshot(root);
  for (let i = 0; i < 40 && [...before].some(([k, v]) => after.get(k) !== v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await snapshot(root);
  }
  assertUnchanged(before, after, 'a stalled PATCH');
}

describe('a refused request with a body still coming closes its connection', () => {
  let reg: AuthRegistry;
  // The default idle timeout (60 s): what closes these connections is the refusal, not a timer.
  before(async () => { reg = await startAuthRegistry('basic'); });
  after(async () => reg.close());

  for (const [what, requestLine] of [
    ['an anonymous blob PATCH', `PATCH /v2/${REPO}/blobs/uploads/00000000-0000-4000-8000-000000000000 HTTP/1.1`],
    ['an anonymous manifest PUT', `PUT /v2/${REPO}/manifests/v1 HTTP/1.1`],
    ['an anonymous admin API call', 'PUT /api/v1/users/alice/password HTTP/1.1'],
  ] as const) {
    it(`${what} trickling its body after the 401 is disconnected`, async () => {
      const start = head(requestLine, [`Host: ${reg.host}`, 'Content-Length: 100000', 'Content-Type: application/json']);
      // One byte every 100 ms; a server that kept reading would hold the connection to the timeout.
      const exchange = await trickle(reg.url, `${start}{`, Array.from({ length: 100 }, () => Buffer.from(' ')), 100, undefined, 8000);
      assert.ok(exchange.closedByServer, `the connection was held open after: ${exchange.received.toString('latin1').slice(0, 120)}`);
      const responses = parseResponses(exchange.received);
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.status, 401);
      assert.equal(responses[0]!.headers.connection, 'close');
    });
  }

  it('a request without a body keeps its connection after a 401', async () => {
    const get = head(`GET /v2/${REPO}/tags/list HTTP/1.1`, [`Host: ${reg.host}`]);
    const exchange = await rawExchange(reg.url, get + get, { timeoutMs: 5000, expectResponses: 2 });
    assert.deepEqual(exchange.responses.map((r) => r.status), [401, 401]);
  });
});

describe('connections per client address (http.limits.maxconnectionsperclient)', () => {
  let reg: TestRegistry;
  const held: Socket[] = [];
  before(async () => { reg = await startTestRegistry({ env: { REGISTRY_HTTP_LIMITS_MAXCONNECTIONSPERCLIENT: '5' } }); });
  after(async () => {
    for (const s of held) s.destroy();
    await reg.close();
  });

  it('closes connections past the limit, and accepts again once one is gone', async () => {
    for (let i = 0; i < 5; i++) {
      const s = await openSocket(reg.url);
      s.on('error', () => undefined);
      held.push(s);
    }
    // The five are served.
    const ok = await exchangeOn(held[0]!, head('GET /v2/ HTTP/1.1', [`Host: ${reg.host}`]), { timeoutMs: 5000, expectResponses: 1 });
    assert.equal(ok.responses[0]?.status, 200);
    const extra = await rawExchange(reg.url, head('GET /v2/ HTTP/1.1', [`Host: ${reg.host}`]), { timeoutMs: 5000 });
    assert.ok(extra.closedByServer, 'the sixth connection is closed');
    assert.equal(extra.responses.length, 0, 'and not served');
    // exchangeOn destroyed held[0]: once the server has seen it close, a new one is served.
    let status: number | undefined;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const again = await rawExchange(reg.url, head('GET /v2/ HTTP/1.1', [`Host: ${reg.host}`]), { timeoutMs: 5000, expectResponses: 1 });
      status = again.responses[0]?.status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, 200);
  });
});
