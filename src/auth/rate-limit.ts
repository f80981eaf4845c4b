// Failed-login limits: after `attempts` failures for one user from one address (or four times
// as many from one address for any user) within `windowMs`, further attempts get 429 until the
// window ends. This one counts in this process: each replica its own. With `redis` configured,
// redis-rate-limit.ts counts across replicas and falls back to this one.
export interface RateLimitOptions {
  attempts: number;
  windowMs: number;
  now?: () => number;
}

/** What the credential checker asks; answers may come from another process (Redis). */
export interface FailedLoginLimiter {
  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  retryAfter(user: string, address: string): number | Promise<number>;
  failed(user: string, address: string): void | Promise<void>;
  succeeded(user: string, address: string): void | Promise<void>;
}

/** The counters one attempt touches, each with its limit: per user and address, and per address. */
export function limitKeys(user: string, address: string, attempts: number): Array<[string, number]> {
  return [[`u\u0000${user}\u0000${address}`, attempts], [`a\u0000${address}`, attempts * 4]];
}

interface Counter { count: number; resetAt: number }

export class LoginRateLimiter implements FailedLoginLimiter {
  #counters = new Map<string, Counter>();
  readonly #now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  retryAfter(user: string, address: string): number {
    const now = this.#now();
    let wait = 0;
    for (const [key, limit] of this.#keys(user, address)) {
      const c = this.#counters.get(key);
      if (c && c.resetAt > now && c.count >= limit) wait = Math.max(wait, Math.ceil((c.resetAt - now) / 1000));
    }
    return wait;
  }

  failed(user: string, address: string): void {
    const now = this.#now();
    if (this.#counters.size > 100_000) this.#sweep(now);
    for (const [key] of this.#keys(user, address)) {
      const c = this.#counters.get(key);
      if (!c || c.resetAt <= now) this.#counters.set(key, { count: 1, resetAt: now + this.options.windowMs });
      else c.count++;
    }
  }

  succeeded(user: string, address: string): void {
    this.#counters.delete(limitKeys(user, address, this.options.attempts)[0]![0]);
  }

  #keys(user: string, address: string): Array<[string, number]> {
    return limitKeys(user, address, this.options.attempts);
  }

  #sweep(now: number): void {
    for (const [k, c] of this.#counters) if (c.resetAt <= now) this.#counters.delete(k);
  }
}
