// Failed-login limits kept in Redis, so that every replica counts the same attempts: a client
// cannot multiply its attempts by the number of replicas behind the load balancer. The rules are
// rate-limit.ts's; each step is one script, so two replicas never both take the last attempt.
// When Redis does not answer, the limits fall back to this process's own counts (fail open to
// per-replica limits, with a warning) rather than refusing every login or none.
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { KNOWN_GOOD_MS, LoginRateLimiter, limitKeys, type FailedLoginLimiter, type RateLimitOptions, type Reservation } from './rate-limit.js';

const PREFIX = 'berth:login-failures:';

/**
 * KEYS: the known-good mark, then the counters (the pair's first); ARGV: their limits, then the
 * window. A known-good pair answers to its own counter only. Refuses with the longest wait when
 * a counter is full, else counts on each: {1, counted} or {0, wait ms}.
 */
const RESERVE = `local n = #KEYS - 1
if redis.call('EXISTS', KEYS[1]) == 1 then n = 1 end
local window = tonumber(ARGV[#ARGV])
local wait = 0
for i = 1, n do
  local c = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  if c >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', KEYS[i + 1])
    if ttl < 0 then ttl = window end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return {0, wait} end
for i = 1, n do
  if redis.call('INCR', KEYS[i + 1]) == 1 then redis.call('PEXPIRE', KEYS[i + 1], window) end
end
return {1, n}`;

/** KEYS: the known-good mark, the pair's counter, the other counters reserved; ARGV: the mark's lifetime. */
const SUCCEEDED = `redis.call('DEL', KEYS[2])
for i = 3, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1`;

export class RedisLoginRateLimiter implements FailedLoginLimiter {
  readonly #redis: Redis;
  readonly #options: RateLimitOptions;
  readonly #local: LoginRateLimiter;
  readonly #log: FastifyBaseLogger;
  #warned = false;

  constructor(redis: Redis, options: RateLimitOptions, log: FastifyBaseLogger) {
    this.#redis = redis;
    this.#options = options;
    this.#local = new LoginRateLimiter(options);
    this.#log = log;
  }

  async reserve(user: string, address: string): Promise<Reservation> {
    const { counters, good } = limitKeys(user, address, this.#options.attempts);
    let answer: [number, number];
    try {
      answer = await this.#redis.eval(RESERVE, counters.length + 1, PREFIX + good, ...counters.map(([key]) => PREFIX + key),
        ...counters.map(([, limit]) => limit), this.#options.windowMs) as [number, number];
      this.#recovered();
    } catch (err) {
      this.#fellBack(err);
      return this.#local.reserve(user, address);
    }
    if (Number(answer[0]) !== 1) return { ok: false, retryAfter: Math.max(1, Math.ceil(Number(answer[1]) / 1000)) };
    // Counted here too: the fallback must know the recent past if Redis goes away.
    this.#local.reserve(user, address, true);
    return { ok: true, counted: counters.slice(0, Number(answer[1])).map(([key]) => key) };
  }

  async succeeded(user: string, address: string, reservation: Reservation): Promise<void> {
    this.#local.succeeded(user, address, reservation);
    const { counters, good } = limitKeys(user, address, this.#options.attempts);
    const others = reservation.ok ? reservation.counted.slice(1) : [];
    try {
      await this.#redis.eval(SUCCEEDED, 2 + others.length, PREFIX + good, PREFIX + counters[0]![0], ...others.map((k) => PREFIX + k), KNOWN_GOOD_MS);
    } catch (err) {
      this.#fellBack(err);
    }
  }

  #fellBack(err: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#log.warn({ err }, 'redis: unavailable; failed logins are counted per replica until it answers');
  }

  #recovered(): void {
    if (!this.#warned) return;
    this.#warned = false;
    this.#log.info('redis: answering again; failed logins are counted across replicas');
  }
}
