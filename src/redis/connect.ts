// The Redis connection of one replica, from Distribution's `redis` section. Commands fail at once
// while the connection is down (no offline queue) and each waits at most the configured
// read/write timeout, so a Redis outage slows no request: callers fall back (see
// auth/redis-rate-limit.ts) and /readyz names it. ioredis reconnects in the background.
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { RedisConfig } from '../config/sections/redis.js';

export type { Redis } from 'ioredis';

/** host:port, [v6]:port or host (port 6379). */
export function parseRedisAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(addr);
  if (!m) throw new Error(`redis.addr: "${addr}" is not host:port`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: m[3] ? Number(m[3]) : 6379 };
}

/** Connects (or keeps trying in the background, with a warning); never throws for an unreachable server. */
export async function openRedis(config: RedisConfig, log: FastifyBaseLogger): Promise<Redis> {
  const { host, port } = parseRedisAddr(config.addr);
  const commandMs = Math.max(config.readtimeout, config.writetimeout);
  const redis = new Redis({
    host, port, db: config.db,
    ...(config.password ? { password: config.password } : {}),
    ...(config.tls.enabled ? { tls: { servername: host } } : {}),
    connectTimeout: Math.max(1, config.dialtimeout),
    ...(commandMs > 0 ? { commandTimeout: commandMs } : {}),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ err, addr: config.addr }, 'redis: connection failed; retrying in the background');
  });
  redis.on('ready', () => {
    if (down) log.info({ addr: config.addr }, 'redis: connected again');
    down = false;
  });
  await redis.connect().catch(() => undefined);
  return redis;
}

/** Closes the connection without waiting on a server that may be gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}
