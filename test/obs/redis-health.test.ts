// /readyz with `redis` configured: a redis check that goes 503 naming it while Redis is down
// and recovers when it is back (ioredis reconnects in the background).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry } from '../support/registry-server.js';
import { ready, until } from './readiness.js';
import { startRedis, redisSkip, type RedisServer } from '../support/redis.js';

describe('/readyz and Redis', { skip: redisSkip() }, () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('checks Redis when configured, goes 503 naming it while it is down, and 200 once it is back', async () => {
    const redis: RedisServer = await startRedis();
    cleanup.push(() => redis.close());
    const reg = await startTestRegistry({ env: { REGISTRY_REDIS_ADDR: redis.addr, REGISTRY_REDIS_READTIMEOUT: '500ms' } });
    cleanup.push(() => reg.close());
    const ok = await ready(reg);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.checks.redis?.status, 'ok');
    await redis.stop();
    const down = await ready(reg);
    assert.equal(down.status, 503);
    assert.deepEqual(down.body.failing, ['redis']);
    await redis.start();
    const back = await until(() => ready(reg), (r) => r.status === 200, 15_000);
    assert.equal(back.status, 200, JSON.stringify(back.body));
  });

  it('has no redis check without a redis section', async () => {
    const reg = await startTestRegistry();
    cleanup.push(() => reg.close());
    assert.equal((await ready(reg)).body.checks.redis, undefined);
  });
});
