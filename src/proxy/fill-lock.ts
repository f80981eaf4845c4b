// The cross-replica half of a blob fill's single-flight: one Redis key per (upstream, digest),
// taken with SET NX PX and a random token, renewed while the fill runs, released with a
// compare-and-delete so a replica never frees a lock that expired and was taken by another. A
// replica that finds it held waits for the blob to show up in the shared storage instead of
// downloading it too. Redis failing never fails a pull: the caller downloads on its own.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

export interface HeldLock {
  /** Stops renewing and deletes the key if it is still ours. */
  release(): Promise<void>;
}

/** `held`: another replica fills; `unavailable`: Redis did not answer (download here). */
export type LockAttempt = HeldLock | 'held' | 'unavailable';

/** The Redis key of one fill; tests take it to play a replica that died holding it. */
export function fillLockKey(upstream: string, digest: string): string {
  return `berth:proxy:fill:${upstream}:${digest}`;
}

export class FillLocks {
  readonly #redis: Redis;
  readonly #onDown: (err: unknown) => void;
  #down = false;

  /** `onDown` hears of the first failure of an outage (a warning), not of every pull during it. */
  constructor(redis: Redis, onDown: (err: unknown) => void) {
    this.#redis = redis;
    this.#onDown = onDown;
  }

  /** Tries to take the fill lock for `ttlMs`; held locks renew at a third of it until released. */
  async take(upstream: string, digest: string, ttlMs: number): Promise<LockAttempt> {
    const key = fillLockKey(upstream, digest);
    const token = randomUUID();
    let answer: string | null;
    try {
      answer = await this.#redis.set(key, token, 'PX', ttlMs, 'NX');
    } catch (err) {
      if (!this.#down) this.#onDown(err);
      this.#down = true;
      return 'unavailable';
    }
    this.#down = false;
    if (answer !== 'OK') return 'held';
    const redis = this.#redis;
    // A failed renewal is not fatal: at worst another replica also downloads once.
    const timer = setInterval(() => {
      redis.eval(RENEW, 1, key, token, String(ttlMs)).catch(() => undefined);
    }, Math.max(50, Math.floor(ttlMs / 3)));
    timer.unref();
    return {
      async release() {
        clearInterval(timer);
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      },
    };
  }
}
