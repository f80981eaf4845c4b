// The notification queue on both metadata backends: order, delivery, retries with backoff,
// the dead-letter list, requeueing, and a sink that keeps trying until its endpoint answers.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { forEachMetaDatabase, type MetaBackend } from '../suites/meta-databases.js';
import { EventQueue } from '../../src/events/event-queue.js';
import { EndpointSink } from '../../src/events/endpoint-sink.js';
import type { DistributionEvent } from '../../src/events/envelope.js';
import { startReceiver } from './webhook-receiver.js';

const quiet = pino({ level: 'silent' });

function event(repository: string, action = 'push'): DistributionEvent {
  return {
    id: randomUUID(), timestamp: new Date().toISOString(), action,
    target: { repository, digest: `sha256:${'a'.repeat(64)}`, size: 1, length: 1, mediaType: 'application/octet-stream' },
    request: { id: 'r', addr: '127.0.0.1:1', host: 'h', method: 'PUT', useragent: 'test' }, actor: {},
    source: { addr: 'h:5000', instanceID: 'i' },
  };
}

function settings(name: string, url: string, extra: Partial<ConstructorParameters<typeof EndpointSink>[0]> = {}) {
  return { name, url, headers: {}, timeoutMs: 2000, threshold: 2, backoffMs: 20, maxBackoffMs: 100, maxAttempts: 0, batchSize: 10, ...extra };
}

/** A queue on a fresh database of `backend`, closed after `fn`. */
async function withQueue(backend: MetaBackend, fn: (q: EventQueue) => Promise<void>): Promise<void> {
  const meta = await backend.open();
  try {
    await fn(new EventQueue(meta.db));
  } finally {
    await meta.close();
  }
}

forEachMetaDatabase('event queue', (backend) => {
  it('hands events out oldest first, per endpoint, and forgets them once delivered', () => withQueue(backend, async (q) => {
    const events = Array.from({ length: 5 }, (_, i) => event(`repo/${i}`));
    for (const e of events) await q.enqueue(['a', 'b'], e);
    const due = await q.claim('a', Date.now(), 3, 60_000);
    assert.deepEqual(due.map((d) => d.event.target.repository), ['repo/0', 'repo/1', 'repo/2']);
    assert.deepEqual(due[0]!.event, events[0]);
    const rest = await q.claim('a', Date.now(), 10, 60_000);
    assert.deepEqual(rest.map((d) => d.event.target.repository), ['repo/3', 'repo/4'], 'claimed events are not handed out twice');
    await q.delivered('a', due.map((d) => d.eventId));
    assert.equal(await q.pendingCount('a'), 2);
    assert.equal(await q.pendingCount('b'), 5, 'another endpoint keeps its own copy');
  }));

  it('delays a failed event, then moves it to the dead-letter list after maxattempts, and can requeue it', () => withQueue(backend, async (q) => {
    const e = event('dead/one');
    await q.enqueue(['a'], e);
    let due = await q.claim('a', Date.now(), 10, 1000);
    assert.equal(await q.failed('a', due, 'HTTP 500', Date.now() + 60_000, 2), 0);
    assert.deepEqual(await q.claim('a', Date.now(), 10, 1000), [], 'not due before its retry time');
    due = await q.claim('a', Date.now() + 61_000, 10, 1000);
    assert.equal(due[0]!.attempts, 1);
    assert.equal(await q.failed('a', due, 'HTTP 503', Date.now(), 2), 1);
    assert.deepEqual(await q.claim('a', Date.now() + 120_000, 10, 1000), []);
    const dead = await q.deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.eventId, e.id);
    assert.equal(dead[0]!.lastError, 'HTTP 503');
    assert.equal(dead[0]!.attempts, 2);
    assert.ok(dead[0]!.deadAt instanceof Date);
    assert.equal(await q.requeueDeadLetters('a'), 1);
    assert.deepEqual(await q.deadLetters(), []);
    assert.equal((await q.claim('a', Date.now(), 10, 1000))[0]?.eventId, e.id);
  }));

  it('holds claimed events until their lease ends, unless the claim gives them back', () => withQueue(backend, async (q) => {
    const e = event('lease/one');
    await q.enqueue(['a'], e);
    const now = Date.now();
    const claimed = await q.claim('a', now, 10, 60_000);
    assert.equal(claimed.length, 1);
    assert.deepEqual(await q.claim('a', now + 59_000, 10, 60_000), [], 'another sender waits while the lease holds');
    const expired = await q.claim('a', now + 61_000, 10, 60_000);
    assert.deepEqual(expired.map((x) => x.eventId), [e.id], 'a lease that ran out hands the event to the next claim');
    // Had the stale claim's failure counted, the event would be due at once.
    await q.failed('a', claimed, 'stale claim', now, 0);
    assert.equal((await q.claim('a', now + 100_000, 10, 1000)).length, 0, "a stale claim's outcome does not undo the newer lease");
    await q.release('a', expired);
    assert.deepEqual((await q.claim('a', Date.now(), 10, 1000)).map((x) => x.eventId), [e.id], 'released: due at once');
  }));

  it('a sink retries a failing endpoint with backoff and delivers everything once it answers', async () => {
    const meta = await backend.open();
    const receiver = await startReceiver();
    receiver.status = 503;
    const failures: string[] = [];
    const sink = new EndpointSink(settings('hook', receiver.url), new EventQueue(meta.db), quiet, {
      delivered: () => undefined, failed: (_e, s) => failures.push(s), deadLettered: () => undefined,
    });
    try {
      const q = new EventQueue(meta.db);
      const events = Array.from({ length: 3 }, (_, i) => event(`retry/${i}`));
      for (const e of events) await q.enqueue(['hook'], e);
      sink.start();
      while (failures.length < 3) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(receiver.events, []);
      receiver.status = 200;
      const got = await receiver.waitFor(3);
      assert.deepEqual(got.map((e) => e.id), events.map((e) => e.id));
      assert.ok(failures.every((f) => f === 'HTTP 503'));
      // The receiver records a batch before the sink sees the answer and removes it.
      const end = Date.now() + 5000;
      while ((await q.pendingCount('hook')) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await q.pendingCount('hook'), 0);
    } finally {
      await sink.stop();
      await receiver.close();
      await meta.close();
    }
  });

  it('a sink stopped with a deadline lets the POST in flight finish and records it: a drain delivers once', async () => {
    const meta = await backend.open();
    const receiver = await startReceiver();
    receiver.delayMs = 400;
    const q = new EventQueue(meta.db);
    let sink = new EndpointSink(settings('drain', receiver.url), q, quiet);
    try {
      const e = event('drain/one');
      await q.enqueue(['drain'], e);
      sink.start();
      // The receiver records the batch before it answers: the POST is then in flight.
      assert.equal((await receiver.waitFor(1)).length, 1);
      await sink.stop(Date.now() + 5000);
      assert.equal(await q.pendingCount('drain'), 0, 'the delivery was recorded before the sink stopped');
      sink = new EndpointSink(settings('drain', receiver.url), q, quiet);
      await sink.drain(Date.now() + 2000);
      assert.deepEqual(receiver.events.map((x) => x.id), [e.id], 'not sent again by the next start');
    } finally {
      await sink.stop();
      await receiver.close();
      await meta.close();
    }
  });

  it('a sink dead-letters events its endpoint never accepts', async () => {
    const meta = await backend.open();
    const receiver = await startReceiver();
    receiver.status = 500;
    let dead = 0;
    const sink = new EndpointSink(settings('never', receiver.url, { maxAttempts: 3 }), new EventQueue(meta.db), quiet, {
      delivered: () => undefined, failed: () => undefined, deadLettered: (_e, n) => { dead += n; },
    });
    try {
      const q = new EventQueue(meta.db);
      await q.enqueue(['never'], event('never/one'));
      sink.start();
      const end = Date.now() + 10_000;
      while (dead < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(dead, 1);
      const letters = await q.deadLetters('never');
      assert.equal(letters.length, 1);
      assert.equal(letters[0]!.attempts, 3);
      assert.equal(await q.pendingCount('never'), 0);
    } finally {
      await sink.stop();
      await receiver.close();
      await meta.close();
    }
  });
});
