// Failed-login limits kept in Redis, so that every replica counts the same failures: a client
// cannot multiply its attempts by the number of replicas behind the load balancer. When Redis
// does not answer, the limits fall back to this process's own counts (fail open to per-replica
// limits, with a warning) rather than refusing every login or none.
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { LoginRateLimiter, limitKeys, type FailedLoginLimiter, type RateLimitOptions } from './rate-limit.js';

const PREFIX = 'berth:login-failures:';

/** INCR, and a fresh window on the first failure: atomic, so two replicas never reset each other. */
const COUNT_FAILURE = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

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

  async retryAfter(user: string, address: string): Promise<number> {
    const keys = limitKeys(user, address, this.#options.attempts);
    try {
      const pipeline = this.#redis.pipeline();
      for (const [key] of keys) pipeline.get(PREFIX + key).pttl(PREFIX + key);
      const answers = this.#answers(await pipeline.exec());
      let wait = 0;
      keys.forEach(([, limit], i) => {
        const count = Number(answers[2 * i] ?? 0);
        const ttl = Number(answers[2 * i + 1] ?? -2);
        if (count >= limit && ttl > 0) wait = Math.max(wait, Math.ceil(ttl / 1000));
      });
      this.#recovered();
      return Math.max(wait, this.#local.retryAfter(user, address));
    } catch (err) {
      this.#fellBack(err);
      return this.#local.retryAfter(user, address);
    }
  }

  async failed(user: string, address: string): Promise<void> {
    // Counted here too: the fallback must know the recent past if Redis goes away.
    this.#local.failed(user, address);
    try {
      const pipeline = this.#redis.pipeline();
      for (const [key] of limitKeys(user, address, this.#options.attempts)) pipeline.eval(COUNT_FAILURE, 1, PREFIX + key, this.#options.windowMs);
      this.#answers(await pipeline.exec());
    } catch (err) {
      this.#fellBack(err);
    }
  }

  /** Not awaited by the request: Basic clients log in on every request, and the reset can trail it. */
  succeeded(user: string, address: string): void {
    this.#local.succeeded(user, address);
    const [userKey] = limitKeys(user, address, this.#options.attempts)[0]!;
    this.#redis.del(PREFIX + userKey).catch((err: unknown) => this.#fellBack(err));
  }

  /** The results of a pipeline, or the first error in it thrown. */
  #answers(results: Array<[Error | null, unknown]> | null): unknown[] {
    if (!results) throw new Error('redis: pipeline not executed');
    for (const [err] of results) if (err) throw err;
    return results.map(([, v]) => v);
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
