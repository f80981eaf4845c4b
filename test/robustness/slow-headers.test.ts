// Slowloris: clients that open connections and send a request head a few bytes at a time, never
// finishing it. The server keeps serving everyone else meanwhile, and closes those connections
// itself once http.timeouts.header has passed (a short one here, 3 s, checked every 1.5 s;
// 60 s by default), answering 408 with OCI error JSON.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { errorBody } from '../support/api-table.js';
import { openSocket, parseResponses } from './support/raw-http.js';

const SLOW_CLIENTS = 100;
const HEADER_TIMEOUT = '3s';
/** The header timeout plus one connection-checking interval, plus ample slack for a busy machine. */
const CLOSE_WITHIN_MS = 20_000;

describe('slow request heads (slowloris)', () => {
  let reg: TestRegistry;
  const sockets: Socket[] = [];
  before(async () => { reg = await startTestRegistry({ storage: 'filesystem', env: { REGISTRY_HTTP_TIMEOUTS_HEADER: HEADER_TIMEOUT } }); });
  after(async () => {
    for (const s of sockets) s.destroy();
    await reg.close();
  });

  it(`${SLOW_CLIENTS} trickling heads do not block other clients, and the server closes them`, { timeout: CLOSE_WITHIN_MS + 30_000 }, async (t) => {
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: SLOW_CLIENTS }, async () => {
      const socket = await openSocket(reg.url);
      sockets.push(socket);
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => received.push(c));
      socket.on('error', () => undefined);
      const head = `PATCH /v2/slow/app/blobs/uploads/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\nHost: ${reg.host}\r\nX-Slow: `;
      socket.write(head);
      // One more header byte every second, never the blank line that ends the head.
      const trickle = setInterval(() => { if (!socket.destroyed) socket.write('a'); }, 1000);
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
      return { closed, trickle, received };
    }));

    // Meanwhile the server answers everyone else at once.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${reg.url}/v2/`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      assert.equal(res.status, 200, 'a normal request is served while the slow heads are open');
      await new Promise((r) => setTimeout(r, 200));
    }

    const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), CLOSE_WITHIN_MS).unref());
    const closedAfter = await Promise.all(outcomes.map((o) => Promise.race([o.closed, deadline])));
    for (const o of outcomes) clearInterval(o.trickle);
    assert.ok(closedAfter.every((ms) => ms !== 'timeout'), `the server left ${closedAfter.filter((ms) => ms === 'timeout').length} slow connections open for ${CLOSE_WITHIN_MS} ms`);
    t.diagnostic(`slow connections closed by the server after ${Math.min(...closedAfter as number[])}-${Math.max(...closedAfter as number[])} ms`);
    for (const o of outcomes) {
      const responses = parseResponses(Buffer.concat(o.received));
      assert.equal(responses.length, 1, `one answer before the close: ${Buffer.concat(o.received).toString('latin1').slice(0, 200)}`);
      const [r] = responses;
      assert.equal(r!.status, 408, 'a timed-out head is answered 408');
      assert.equal(r!.headers['docker-distribution-api-version'], 'registry/2.0');
      assert.equal(errorBody({ status: r!.status, headers: new Headers(), body: r!.body, method: 'PATCH' }).errors[0]?.code, 'UNAVAILABLE');
    }
  });
});
