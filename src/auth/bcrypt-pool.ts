// bcrypt off the event loop: a few worker threads (bcrypt-worker.ts) each doing one comparison at
// a time, the rest waiting in line. bcryptjs is pure JavaScript; on the main thread a burst of
// logins would stall every other client for the whole burst. The line also caps the CPU a burst
// can take: at most `size` comparisons run at once, whatever the number of clients.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { BcryptAnswer, BcryptWork } from './bcrypt-worker.js';

type Job = { task: BcryptWork; resolve: (a: BcryptAnswer) => void; reject: (e: Error) => void };

interface Slot { worker: Worker; job: Job | undefined }

export class BcryptPool {
  readonly #slots: Slot[] = [];
  readonly #waiting: Job[] = [];
  #nextId = 1;
  #closed = false;

  /** `size`: worker threads, by default half the CPUs (at least one), leaving the rest to serving. */
  constructor(readonly size = Math.max(1, Math.floor(availableParallelism() / 2))) {}

  async compare(secret: string, hash: string): Promise<boolean> {
    const answer = await this.#run({ op: 'compare', secret, hash });
    return answer.ok;
  }

  async hash(secret: string, cost: number): Promise<string> {
    const answer = await this.#run({ op: 'hash', secret, cost });
    if (!answer.hash) throw new Error(`bcrypt: ${answer.error ?? 'no hash'}`);
    return answer.hash;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) job.reject(new Error('bcrypt pool closed'));
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }

  #run(task: Job['task']): Promise<BcryptAnswer> {
    if (this.#closed) return Promise.reject(new Error('bcrypt pool closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ task, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#waiting.length > 0) {
      const slot = this.#slots.find((s) => !s.job) ?? (this.#slots.length < this.size ? this.#spawn() : undefined);
      if (!slot) return;
      const job = this.#waiting.shift()!;
      slot.job = job;
      // Held while working (a CLI awaiting a check must not exit), let go when idle.
      slot.worker.ref();
      slot.worker.postMessage({ ...job.task, id: this.#nextId++ });
    }
  }

  #spawn(): Slot {
    const worker = new Worker(new URL('./bcrypt-worker.js', import.meta.url));
    const slot: Slot = { worker, job: undefined };
    worker.unref();
    worker.on('message', (answer: BcryptAnswer) => {
      const job = slot.job;
      slot.job = undefined;
      worker.unref();
      job?.resolve(answer);
      this.#dispatch();
    });
    const fail = (err: Error) => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      slot.job?.reject(err);
      slot.job = undefined;
      this.#dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => { if (!this.#closed) fail(new Error(`bcrypt worker exited with ${code}`)); });
    this.#slots.push(slot);
    return slot;
  }
}

let shared: BcryptPool | undefined;

/** The process's pool, started on first use. */
export function bcryptPool(): BcryptPool {
  shared ??= new BcryptPool();
  return shared;
}
