// A per-upstream circuit breaker: after `threshold` consecutive failures the upstream is not
// asked at all for `cooldownMs` (pulls get the cached copy or a fast error instead of waiting
// for a timeout each); then one probe is let through, and its outcome closes or re-opens it.

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;

  constructor(threshold: number, cooldownMs: number, now: () => number = Date.now) {
    this.#threshold = threshold;
    this.#cooldownMs = cooldownMs;
    this.#now = now;
  }

  get state(): BreakerState {
    if (this.#openedAt === undefined) return 'closed';
    return this.#now() - this.#openedAt >= this.#cooldownMs ? 'half-open' : 'open';
  }

  /** Milliseconds until a probe is allowed (0 when closed or half-open). */
  get retryAfterMs(): number {
    return this.#openedAt === undefined ? 0 : Math.max(0, this.#openedAt + this.#cooldownMs - this.#now());
  }

  /** Whether a request may go out now; in half-open state only one (the probe) at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
    this.#probing = false;
  }

  failed(): void {
    this.#failures++;
    if (this.#probing || this.#failures >= this.#threshold) this.#openedAt = this.#now();
    this.#probing = false;
  }

  /** A request that ended without telling anything about the upstream's health (a 404, an abort). */
  released(): void {
    if (this.#probing) this.succeeded();
  }
}
