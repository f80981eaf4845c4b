// Distribution's `maxthreads` for the filesystem driver: at most N driver operations at once
// (default 100, at least 25), so a burst of requests cannot exhaust the process's threads and
// file descriptors. Like Distribution's regulator, a reader or writer holds its slot while it
// is being opened, not while its bytes flow. A caller waiting for a slot can give up through
// its AbortSignal.
import { DriverWrapper, type DriverCall } from './base.js';
import type { StorageDriver } from './driver.js';

export class ConcurrencyLimit extends DriverWrapper {
  readonly #max: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(inner: StorageDriver, max: number) {
    super(inner);
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${max}`);
    this.#max = max;
  }

  protected async around<T>(call: DriverCall, op: () => Promise<T>): Promise<T> {
    await this.#acquire(call.signal);
    try {
      return await op();
    } finally {
      this.#release();
    }
  }

  async #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.#running < this.#max) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', abandon);
        resolve();
      };
      const abandon = () => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal?.reason);
      };
      this.#waiting.push(grant);
      signal?.addEventListener('abort', abandon, { once: true });
    });
  }

  /** Hands the slot straight to the next waiter (the count stays), or frees it. */
  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
