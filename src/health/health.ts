// Liveness and readiness. /healthz says the process answers; /readyz runs the live checks
// (storage writable, metadata database, disk space) and reports the last state of Distribution's
// periodic checks, answering 503 with the failing checks named.
import type { Check } from './checks.js';

export interface CheckState {
  status: 'ok' | 'failing';
  error?: string;
}

export interface Readiness {
  status: 'ok' | 'unavailable';
  checks: Record<string, CheckState>;
  /** Names of the failing checks. */
  failing: string[];
}

export interface PeriodicCheckOptions {
  intervalMs: number;
  /** Consecutive failures before the check counts as failing. */
  threshold: number;
}

class PeriodicCheck {
  #failures = 0;
  #lastError: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #abort = new AbortController();

  constructor(readonly name: string, readonly check: Check, readonly options: PeriodicCheckOptions) {}

  start(): void {
    const tick = async () => {
      try {
        await this.check(this.#abort.signal);
        this.#failures = 0;
        this.#lastError = undefined;
      } catch (err) {
        this.#failures++;
        this.#lastError = (err as Error).message;
      }
      if (!this.#abort.signal.aborted) this.#timer = setTimeout(tick, this.options.intervalMs).unref();
    };
    void tick();
  }

  stop(): void {
    this.#abort.abort();
    clearTimeout(this.#timer);
  }

  state(): CheckState {
    if (this.#failures >= this.options.threshold) return { status: 'failing', error: this.#lastError ?? 'failing' };
    return { status: 'ok' };
  }
}

export class Health {
  readonly #live = new Map<string, Check>();
  readonly #periodic: PeriodicCheck[] = [];
  readonly #timeoutMs: number;

  constructor(options: { timeoutMs: number }) {
    this.#timeoutMs = options.timeoutMs;
  }

  /** A check run on every readiness request. */
  addLive(name: string, check: Check): this {
    this.#live.set(name, check);
    return this;
  }

  /** A check run in the background every interval (Distribution's health.* checks). */
  addPeriodic(name: string, check: Check, options: PeriodicCheckOptions): this {
    this.#periodic.push(new PeriodicCheck(name, check, options));
    return this;
  }

  start(): void {
    for (const p of this.#periodic) p.start();
  }

  stop(): void {
    for (const p of this.#periodic) p.stop();
  }

  async readiness(): Promise<Readiness> {
    const checks: Record<string, CheckState> = {};
    await Promise.all([...this.#live].map(async ([name, check]) => {
      checks[name] = await this.#runLive(check);
    }));
    for (const p of this.#periodic) checks[p.name] = p.state();
    const failing = Object.keys(checks).filter((n) => checks[n]!.status === 'failing').sort();
    return { status: failing.length ? 'unavailable' : 'ok', checks, failing };
  }

  async #runLive(check: Check): Promise<CheckState> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      await Promise.race([
        check(signal),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), { once: true })),
      ]);
      return { status: 'ok' };
    } catch (err) {
      return { status: 'failing', error: (err as Error).message };
    }
  }
}
