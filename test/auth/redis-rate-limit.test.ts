// Failed-login limits across replicas: two Berth servers sharing one real Redis count the same
// failures, so the limit trips on whichever replica gets the attempt over it. Without Redis
// answering, each server falls back to its own count (fail open to per-replica limits).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAuthRegistry, basic, PASSWORD, type AuthRegistry } from './support.js';
import { startRedis, redisSkip, type RedisServer } from '../support/redis.js';
import { removeDir } from '../e2e/support/env.js';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { openRedis, closeRedis } from '../../src/redis/connect.js';
import { RedisLoginRateLimiter } from '../../src/auth/redis-rate-limit.js';

async function login(reg: AuthRegistry, user: string, password: string): Promise<number> {
  const res = await fetch(`${reg.url}/v2/`, { headers: { Authorization: basic(user, password) } });
  await res.arrayBuffer();
  return res.status;
}

describe('failed-login limits shared through Redis', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let replicas: AuthRegistry[] = [];

  before(async () => {
    redis = await startRedis();
    const env = { REGISTRY_REDIS_ADDR: redis.addr, REGISTRY_REDIS_READTIMEOUT: '500ms', REGISTRY_REDIS_DIALTIMEOUT: '500ms' };
    replicas = [await startAuthRegistry('basic', {}, { env }), await startAuthRegistry('basic', {}, { env })];
  });

  after(async () => {
    for (const r of replicas) {
      await r.close();
      await removeDir(r.dir);
    }
    await redis?.close();
  });

  it('counts failures on both replicas together: the sixth attempt is refused wherever it lands', async () => {
    const [a, b] = replicas as [AuthRegistry, AuthRegistry];
    const statuses: number[] = [];
    // Five failures spread over two replicas: each has seen at most three.
    for (let i = 0; i < 5; i++) statuses.push(await login(i % 2 === 0 ? a : b, 'alice', `guess-${i}`));
    statuses.push(await login(b, 'alice', 'guess-5'));
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    assert.equal(await login(a, 'alice', PASSWORD), 429, 'the right password waits out the window on the other replica too');
  });

  it('with Redis down, logins still answer and each replica limits on its own count', async () => {
    const [a, b] = replicas as [AuthRegistry, AuthRegistry];
    await redis.stop();
    try {
      assert.equal(await login(b, 'admin', 'wrong'), 401, 'a failed login is refused, not an error');
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await login(a, 'bob', `guess-${i}`));
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429], 'the limit still holds on one replica');
      assert.equal(await login(b, 'bob', 'guess-6'), 401, 'the other replica has its own count while Redis is away');
    } finally {
      await redis.start();
    }
  });
});

describe('attempts reserved in Redis before they are checked', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let replicas: AuthRegistry[] = [];

  before(async () => {
    redis = await startRedis();
    const env = { REGISTRY_REDIS_ADDR: redis.addr };
    replicas = [await startAuthRegistry('basic', {}, { env }), await startAuthRegistry('basic', {}, { env })];
    // Each test replica has its own metadata database.
    for (const r of replicas) for (const name of ['carol', 'erin', 'dave']) await r.store.addUser(name, PASSWORD);
  });

  after(async () => {
    for (const r of replicas) {
      await r.close();
      await removeDir(r.dir);
    }
    await redis?.close();
  });

  it('40 concurrent wrong passwords for one user over two replicas: at most 5 are checked, the rest get 429', async () => {
    const [a, b] = replicas as [AuthRegistry, AuthRegistry];
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => login(i % 2 === 0 ? a : b, 'carol', `guess-${i}`)));
    const checked = statuses.filter((s) => s === 401).length;
    assert.ok(checked <= 5, `${checked} wrong passwords were checked: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 429).length, 40 - checked);
  });

  it('an address full of failures (a NAT) refuses newcomers but not a user who logged in from it before, on any replica', async () => {
    const [a, b] = replicas as [AuthRegistry, AuthRegistry];
    assert.equal(await login(a, 'erin', PASSWORD), 200);
    // 4 x attempts failures from this address, each for another name.
    for (let i = 0; i < 20; i++) await login(i % 2 === 0 ? a : b, `stranger${i}`, 'wrong');
    assert.equal(await login(b, 'dave', PASSWORD), 429, 'someone new behind the busy address waits');
    assert.equal(await login(b, 'erin', PASSWORD), 200, 'erin, known here, gets through');
  });
});

describe('the Redis limiter on its own', { skip: redisSkip() }, () => {
  it('warns once when Redis stops answering, limits on its own count meanwhile, and says when Redis is back', async () => {
    const redis = await startRedis();
    const lines: string[] = [];
    const base = pino({ level: 'silent' });
    const logger = Object.assign(Object.create(base) as FastifyBaseLogger, {
      warn: (_o: unknown, msg?: string) => { lines.push(`warn ${msg ?? ''}`); },
      info: (_o: unknown, msg?: string) => { lines.push(`info ${typeof _o === 'string' ? _o : msg ?? ''}`); },
    });
    const client = await openRedis({
      addr: redis.addr, db: 0, dialtimeout: 500, readtimeout: 500, writetimeout: 500,
      pool: { maxidle: 0, maxactive: 0, idletimeout: 300_000 }, tls: { enabled: false },
    }, logger);
    const limiter = new RedisLoginRateLimiter(client, { attempts: 2, windowMs: 60_000 }, logger);
    try {
      // A reservation never taken back by a success is a failure.
      assert.ok((await limiter.reserve('carol', '10.0.0.1')).ok);
      await redis.stop();
      assert.ok((await limiter.reserve('carol', '10.0.0.1')).ok, 'the local count knows of one failure');
      assert.equal((await limiter.reserve('carol', '10.0.0.1')).ok, false, 'two failures trip the limit on the local count');
      assert.ok((await limiter.reserve('dave', '10.0.0.2')).ok, 'others may still log in');
      const warnings = lines.filter((l) => l.includes('failed logins are counted per replica'));
      assert.equal(warnings.length, 1, lines.join('\n'));
      await redis.start();
      const end = Date.now() + 15_000;
      while (client.status !== 'ready' && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      await limiter.reserve('dave', '10.0.0.2');
      assert.ok(lines.some((l) => l.includes('counted across replicas')), lines.join('\n'));
    } finally {
      await closeRedis(client);
      await redis.close();
    }
  });
});
