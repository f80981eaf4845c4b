// The replica's share of the job queue: up to `workers` jobs at once, each held by a lease that
// is renewed every third of its length while the job runs. A renewal that fails (the lease ran
// out and another replica took the job) aborts the run here, so the job is not run twice.
// A failed attempt is queued again after an exponential backoff, or parked with its error when
// it cannot succeed by waiting (credentials refused) or ran out of attempts.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Job, JobCounts, JobStore } from './job-store.js';
import { PartialFailure, PermanentFailure } from './failures.js';
import type { ReplicationMetrics } from './metrics.js';

export interface WorkerSettings {
  workers: number;
  leaseMs: number;
  pollMs: number;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

/** Runs one claimed job; returns its counts. Throws on failure (PartialFailure with partial counts). */
export type JobHandler = (job: Job, signal: AbortSignal) => Promise<JobCounts>;

const NONE: JobCounts = { images: 0, bytes: 0, skipped: 0, failed: 0 };

export class Worker {
  /** This replica's name on the leases it holds. */
  readonly owner = randomUUID();
  readonly #store: JobStore;
  readonly #handle: JobHandler;
  readonly #s: WorkerSettings;
  readonly #log: FastifyBaseLogger;
  readonly #metrics: ReplicationMetrics | undefined;
  readonly #running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  #stopped = true;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(store: JobStore, handle: JobHandler, settings: WorkerSettings, log: FastifyBaseLogger, metrics?: ReplicationMetrics) {
    this.#store = store;
    this.#handle = handle;
    this.#s = settings;
    this.#log = log;
    this.#metrics = metrics;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Look for work now (a job was just queued here). */
  poke(): void {
    this.#wake?.();
  }

  /** Stops claiming, aborts running jobs and hands them back to the queue. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.poke();
    for (const r of this.#running.values()) r.abort.abort(new Error('replication stopping'));
    await Promise.all([...this.#running.values()].map((r) => r.done));
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        while (!this.#stopped && this.#running.size < this.#s.workers) {
          const job = await this.#store.claim(this.owner, Date.now(), this.#s.leaseMs);
          if (!job) break;
          this.#launch(job);
        }
      } catch (err) {
        this.#log.warn({ err }, 'replication: could not claim jobs');
      }
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#s.pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #launch(job: Job): void {
    const abort = new AbortController();
    const renew = setInterval(() => {
      this.#store.renew(job.id, this.owner, Date.now() + this.#s.leaseMs).then((held) => {
        if (!held) abort.abort(new Error('lease lost: the job is another replica\'s now'));
      }, (err: unknown) => this.#log.warn({ err, job: job.id }, 'replication: could not renew a lease'));
    }, Math.max(100, Math.floor(this.#s.leaseMs / 3)));
    const done = this.#attempt(job, abort.signal).finally(() => {
      clearInterval(renew);
      this.#running.delete(job.id);
      this.poke();
    });
    this.#running.set(job.id, { abort, done });
  }

  async #attempt(job: Job, signal: AbortSignal): Promise<void> {
    const log = this.#log.child({ policy: job.policy, job: job.id, kind: job.kind, ...(job.repository ? { repository: job.repository, reference: job.reference } : {}) });
    try {
      const counts = await this.#handle(job, signal);
      if (await this.#store.finish(job.id, this.owner, counts)) {
        this.#metrics?.recordJob(job.policy, counts, 'done');
        log.info({ ...counts }, 'replication job done');
      }
    } catch (err) {
      if (signal.aborted) {
        // Stopping: give the job back at once; lost lease: it is not ours to record.
        await this.#store.release(job.id, this.owner).catch(() => undefined);
        return;
      }
      await this.#failed(job, err, log);
    }
  }

  async #failed(job: Job, err: unknown, log: FastifyBaseLogger): Promise<void> {
    const counts = err instanceof PartialFailure ? err.counts : NONE;
    const message = (err as Error).message ?? String(err);
    const park = err instanceof PermanentFailure || job.attempts + 1 >= this.#s.maxAttempts;
    const retryAt = Date.now() + Math.min(this.#s.maxBackoffMs, this.#s.backoffMs * 2 ** job.attempts) * (0.8 + Math.random() * 0.4);
    const state = await this.#store.fail(job.id, this.owner, message, counts, park ? { park: true } : { retryAt });
    if (state === undefined) return;
    this.#metrics?.recordJob(job.policy, counts, state === 'parked' ? 'parked' : 'retry');
    if (state === 'parked') log.error({ attempts: job.attempts + 1, error: message }, 'replication job parked: retry it with `berth replication retry` once the cause is fixed');
    else log.warn({ attempts: job.attempts + 1, error: message, retryAt: new Date(retryAt).toISOString() }, 'replication job failed; it will be retried');
  }
}
