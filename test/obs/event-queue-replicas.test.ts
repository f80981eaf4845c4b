// Several replicas sharing one metadata database: each event reaches its endpoint once, however
// many notifiers send from the shared queue, and a batch claimed by a replica that died is sent
// again once its lease ends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openMetaDatabase, type MetaDatabase, type MetaDatabaseOptions } from '../../src/meta/database.js';
import { Notifier, type NotifierEndpoint } from '../../src/events/notifier.js';
import { EventQueue } from '../../src/events/event-queue.js';
import type { DistributionEvent } from '../../src/events/envelope.js';
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { IN_CI } from '../e2e/support/env.js';
import { startReceiver } from './webhook-receiver.js';

const quiet = pino({ level: 'silent' });

/** Two connections to one database, as two replicas hold them. */
const shared: Array<{ name: string; skip: string | false; options(): Promise<{ options: MetaDatabaseOptions; cleanup(): void }> }> = [
  {
    name: 'sqlite', skip: false,
    async options() {
      const dir = mkdtempSync(join(tmpdir(), 'berth-lease-'));
      return { options: { sqlite: { path: join(dir, 'meta.sqlite') } }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    skip: !IN_CI && !postgresAvailable() ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false,
    async options() {
      return { options: { postgres: { url: await freshPostgresDatabase('lease') } }, cleanup: () => undefined };
    },
  },
];

function event(i: number): DistributionEvent {
  return {
    id: randomUUID(), timestamp: new Date().toISOString(), action: 'push',
    target: { repository: `replicas/${i}`, digest: `sha256:${'b'.repeat(64)}`, size: 1, length: 1, mediaType: 'application/octet-stream' },
    request: { id: 'r', addr: '127.0.0.1:1', host: 'h', method: 'PUT', useragent: 'test' }, actor: {},
    source: { addr: 'h:5000', instanceID: 'i' },
  };
}

function endpoint(url: string, extra: Partial<NotifierEndpoint> = {}): NotifierEndpoint {
  return {
    name: 'hook', url, headers: {}, timeoutMs: 5000, threshold: 3, backoffMs: 20, maxBackoffMs: 100, maxAttempts: 0,
    batchSize: 4, ignoredMediaTypes: [], ignoredActions: [], ...extra,
  };
}

for (const backend of shared) {
  describe(`notification queue shared by replicas (${backend.name})`, { skip: backend.skip }, () => {
    it('two notifiers over one database deliver each of N events exactly once', async () => {
      const { options, cleanup } = await backend.options();
      const metas: MetaDatabase[] = [await openMetaDatabase(options), await openMetaDatabase(options)];
      const receiver = await startReceiver();
      // A slow endpoint keeps each batch in flight while the other replica looks at the queue.
      receiver.delayMs = 30;
      const sent = [0, 0];
      const notifiers = metas.map((m, i) => new Notifier(m.db, [endpoint(receiver.url)], { addr: `replica-${i}`, instanceID: `r${i}` }, quiet, {
        delivered: (_e, n) => { sent[i]! += n; }, failed: () => undefined, deadLettered: () => undefined,
      }));
      try {
        const events = Array.from({ length: 40 }, (_, i) => event(i));
        // Half enqueued by each replica, as requests land on either.
        for (const [i, e] of events.entries()) await notifiers[i % 2]!.queue.enqueue(['hook'], e);
        for (const n of notifiers) n.start();
        await receiver.waitFor(events.length);
        // Let any duplicate batch still in flight arrive before counting.
        const end = Date.now() + 10_000;
        while ((await notifiers[0]!.queue.pendingCount('hook')) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 300));
        const ids = receiver.events.map((e) => e.id);
        assert.equal(ids.length, events.length, `received ${ids.length} events for ${events.length} enqueued`);
        assert.deepEqual([...ids].sort(), events.map((e) => e.id).sort());
        assert.equal(await notifiers[0]!.queue.pendingCount('hook'), 0);
        assert.ok(sent[0]! > 0 && sent[1]! > 0, `both replicas sent (${sent.join(' + ')})`);
      } finally {
        await Promise.all(notifiers.map((n) => n.close(Date.now())));
        await receiver.close();
        for (const m of metas) await m.close();
        cleanup();
      }
    });

    it('a batch claimed by a replica that died is delivered once its lease ends', async () => {
      const { options, cleanup } = await backend.options();
      const meta = await openMetaDatabase(options);
      const receiver = await startReceiver();
      const notifier = new Notifier(meta.db, [endpoint(receiver.url)], { addr: 'survivor', instanceID: 's' }, quiet);
      try {
        const q = new EventQueue(meta.db);
        const events = [event(1), event(2)];
        for (const e of events) await q.enqueue(['hook'], e);
        // The dead replica: it claimed the batch and never said how the attempt went.
        const leaseMs = 1500;
        const claimedAt = Date.now();
        assert.equal((await q.claim('hook', claimedAt, 10, leaseMs)).length, 2);
        notifier.start();
        const got = await receiver.waitFor(2);
        const arrived = Date.now();
        assert.deepEqual(got.map((e) => e.id), events.map((e) => e.id));
        assert.ok(arrived >= claimedAt + leaseMs, 'not sent again while the lease held');
        const end = Date.now() + 5000;
        while ((await q.pendingCount('hook')) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
        assert.equal(await q.pendingCount('hook'), 0);
        assert.equal(receiver.events.length, 2);
      } finally {
        await notifier.close(Date.now());
        await receiver.close();
        await meta.close();
        cleanup();
      }
    });
  });
}
