// Failed-login limits across replicas: two Berth servers sharing one real Redis count the same
// failures, so the limit trips on whichever replica gets the attempt over it. Without Redis
// answering, each server falls back to its own count (fail open to per-replica limits).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAuthRegistry, basic, PASSWORD, type AuthRegistry } from './support.js';
import { startRedis, redisSkip, type RedisServer } from '../helpers/redis.js';
import { removeDir } from '../e2e/support/env.js';

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
