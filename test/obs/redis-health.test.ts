// /readyz with `redis` configured: a redis check that goes 503 naming it while Redis is down
// and recovers when it is back (ioredis reconnects in the background).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../helpers/registry-server.js';
import { startRedis, redisSkip, type RedisServer } from '../helpers/redis.js';

interface ReadyBody { failing: string[]; checks: Record<string, { status: string; error?: string }> }

async function ready(reg: TestRegistry): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${reg.url}/readyz`);
  return { status: res.status, body: await res.json() as ReadyBody };
}

async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

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
    const back = await until(() => ready(reg), (r) => r.status === 200);
    assert.equal(back.status, 200, JSON.stringify(back.body));
  });

  it('has no redis check without a redis section', async () => {
    const reg = await startTestRegistry();
    cleanup.push(() => reg.close());
    assert.equal((await ready(reg)).body.checks.redis, undefined);
  });
});
