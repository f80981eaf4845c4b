// Failed-login limits. An attempt is counted (reserved) before its password is checked, so that
// concurrent attempts cannot all slip under the limit while their checks run; a correct password
// takes its reservation back. Three counters, each over `windowMs`:
//   - user and address: `attempts` (a guesser at one user from one place);
//   - user, any address: 4 x `attempts` (a guesser at one user from many places);
//   - address, any user: 4 x `attempts` (one place trying many users: password spraying).
// When one is full, further attempts get 429 without being checked. A shared address (a NAT, an
// office proxy) must not lock everyone behind it out because of one guesser, nor a user be locked
// out everywhere by someone guessing at their name: a (user, address) pair that logged in
// successfully in the last 24 hours is "known good" and is held only to its own counter. Someone
// new behind a busy address, or a user from a new place while guessed at, waits for the window.
// This one counts in this process: each replica its own. With `redis` configured,
// redis-rate-limit.ts counts across replicas and falls back to this one.
export interface RateLimitOptions {
  attempts: number;
  windowMs: number;
  now?: () => number;
}

export type Reservation = { ok: true; counted: string[] } | { ok: false; retryAfter: number };

/** What the credential checker asks; answers may come from another process (Redis). */
export interface FailedLoginLimiter {
  /** Counts an attempt about to be checked, or refuses it (seconds to wait) when a counter is full. */
  reserve(user: string, address: string): Reservation | Promise<Reservation>;
  /** The attempt was right: takes its reservation back, clears the pair's failures, marks the pair known good. */
  succeeded(user: string, address: string, reservation: Reservation): void | Promise<void>;
}

/** How long a successful login marks its (user, address) pair as known good. */
export const KNOWN_GOOD_MS = 24 * 60 * 60 * 1000;

export interface LimitKeys {
  /** Counters with their limits: the pair's first. */
  counters: Array<[string, number]>;
  good: string;
}

export function limitKeys(user: string, address: string, attempts: number): LimitKeys {
  return {
    counters: [[`u\u0000${user}\u0000${address}`, attempts], [`user\u0000${user}`, attempts * 4], [`a\u0000${address}`, attempts * 4]],
    good: `good\u0000${user}\u0000${address}`,
  };
}

interface Counter { count: number; resetAt: number }

export class LoginRateLimiter implements FailedLoginLimiter {
  #counters = new Map<string, Counter>();
  #good = new Map<string, number>();
  readonly #now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** `force`: count without refusing (mirroring a decision Redis made). */
  reserve(user: string, address: string, force = false): Reservation {
    const now = this.#now();
    if (this.#counters.size > 100_000 || this.#good.size > 100_000) this.#sweep(now);
    const keys = this.#applicable(user, address, now);
    if (!force) {
      let wait = 0;
      for (const [key, limit] of keys) {
        const c = this.#counters.get(key);
        if (c && c.resetAt > now && c.count >= limit) wait = Math.max(wait, Math.ceil((c.resetAt - now) / 1000));
      }
      if (wait > 0) return { ok: false, retryAfter: wait };
    }
    for (const [key] of keys) {
      const c = this.#counters.get(key);
      if (!c || c.resetAt <= now) this.#counters.set(key, { count: 1, resetAt: now + this.options.windowMs });
      else c.count++;
    }
    return { ok: true, counted: keys.map(([key]) => key) };
  }

  succeeded(user: string, address: string, reservation: Reservation): void {
    const { counters, good } = limitKeys(user, address, this.options.attempts);
    this.#counters.delete(counters[0]![0]);
    if (reservation.ok) {
      for (const key of reservation.counted.slice(1)) {
        const c = this.#counters.get(key);
        if (c && c.count > 0) c.count--;
      }
    }
    this.#good.set(good, this.#now() + KNOWN_GOOD_MS);
  }

  /** The counters an attempt answers to: only its own pair's when the pair is known good. */
  #applicable(user: string, address: string, now: number): Array<[string, number]> {
    const { counters, good } = limitKeys(user, address, this.options.attempts);
    return (this.#good.get(good) ?? 0) > now ? counters.slice(0, 1) : counters;
  }

  #sweep(now: number): void {
    for (const [k, c] of this.#counters) if (c.resetAt <= now) this.#counters.delete(k);
    for (const [k, until] of this.#good) if (until <= now) this.#good.delete(k);
  }
}
