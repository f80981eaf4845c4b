// Replication in a serving registry: the policies and endpoints (config.yml's, and those the
// admin API added), the triggers that queue jobs (registry events, cron schedules, "run now"),
// and this replica's worker. The event listener is awaited before the push is answered, so a
// push a policy covers is in the queue, durably, by the time the client hears it succeeded.
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { Cron } from 'croner';
import type { MetaTables } from '../meta/tables/index.js';
import type { Registry } from '../registry/registry.js';
import type { RegistryEvent, RegistryListener } from '../events/registry-listener.js';
import type { MetricsRegistry } from '../metrics/metrics.js';
import type { ReplicationSettings } from '../config/sections/replication.js';
import { JobStore, type Job, type JobCounts, type NewJob } from './job-store.js';
import { Worker } from './worker.js';
import { PermanentFailure } from './failures.js';
import type { ReplicationRuntime } from './runtime.js';
import { createReplicationMetrics } from './metrics.js';
import type { PolicyCatalog, PolicyView } from './catalog.js';

export interface ReplicationOptions {
  settings: ReplicationSettings;
  db: Kysely<MetaTables>;
  core: Registry;
  catalog: PolicyCatalog;
  logger: FastifyBaseLogger;
  metrics?: MetricsRegistry | undefined;
}

export class ReplicationService {
  readonly store: JobStore;
  readonly catalog: PolicyCatalog;
  readonly #o: ReplicationOptions;
  readonly #worker: Worker;
  readonly #log: FastifyBaseLogger;
  /** The client side, loaded by the first job (see runtime.ts). */
  #runtime: Promise<ReplicationRuntime> | undefined;
  #registry: Registry;
  #crons: Cron[] = [];
  /** The schedules the crons were made from, to restart them only when one changed. */
  #schedules: string | undefined;
  #watch: NodeJS.Timeout | undefined;

  constructor(o: ReplicationOptions) {
    this.#o = o;
    this.#log = o.logger.child({ feature: 'replication' });
    this.store = new JobStore(o.db);
    this.catalog = o.catalog;
    this.#registry = o.core;
    const s = o.settings;
    const metrics = o.metrics ? createReplicationMetrics(o.metrics, this.store) : undefined;
    this.#worker = new Worker(this.store, (job, signal) => this.#runJob(job, signal), {
      workers: s.workers, leaseMs: s.lease, pollMs: s.poll, maxAttempts: s.maxattempts, backoffMs: s.backoff, maxBackoffMs: s.maxbackoff,
    }, this.#log, metrics);
  }

  /** The registry clients use, once decorated: pull policies write through it. */
  attach(registry: Registry): void {
    this.#registry = registry;
  }

  /** Queues the jobs registry events ask for (push policies with `trigger.event`). */
  readonly listener: RegistryListener = {
    event: (e: RegistryEvent) => this.#onEvent(e),
  };

  async #onEvent(e: RegistryEvent): Promise<void> {
    if (e.kind === 'blob' || (e.action !== 'push' && e.action !== 'delete')) return;
    const kind = e.action;
    const policies = (await this.catalog.policies()).filter((p) => p.takesEvent(e.repository, kind));
    if (policies.length === 0) return;
    const jobs: NewJob[] = [];
    for (const p of policies) {
      if (e.tag !== undefined && p.coversTag(e.tag)) jobs.push({ policy: p.name, kind: 'tag', repository: e.repository, reference: e.tag, trigger: 'event' });
      // By digest: a referrer pushed on its own, or a manifest deleted with its tags.
      if (e.tag === undefined && e.digest !== undefined) jobs.push({ policy: p.name, kind: 'digest', repository: e.repository, reference: e.digest, trigger: 'event' });
    }
    for (const job of jobs) await this.store.enqueue(job);
    if (jobs.length > 0) this.#worker.poke();
  }

  /** Queues a full run of a policy now; false when one is already waiting. */
  async runNow(policy: string, trigger: 'manual' | 'schedule' = 'manual', id?: string): Promise<boolean> {
    const queued = await this.store.enqueue({ policy, kind: 'run', trigger, ...(id ? { id } : {}) });
    if (queued) this.#worker.poke();
    return queued;
  }

  /** Each policy as given, with its jobs per state and its last finished job (counts, error). */
  async overview(): Promise<Array<PolicyView & { jobs: Record<string, number>; last: Job | null }>> {
    const summary = await this.store.summary();
    const out = [];
    for (const p of await this.catalog.policyViews()) {
      const jobs: Record<string, number> = { queued: 0, running: 0, done: 0, parked: 0 };
      for (const s of summary) if (s.policy === p.name) jobs[s.state] = s.count;
      const last = (await this.store.history({ policy: p.name, limit: 20 })).find((j) => j.finishedAt !== null) ?? null;
      out.push({ ...p, jobs, last });
    }
    return out;
  }

  async retry(filter: { id?: string; policy?: string }): Promise<number> {
    const n = await this.store.retry(filter);
    if (n > 0) this.#worker.poke();
    return n;
  }

  async start(): Promise<void> {
    await this.catalog.storeConfigEndpoints();
    await this.reschedule();
    this.#worker.start();
    // Policies the CLI or another replica's API changed: their schedules follow within a poll.
    this.#watch = setInterval(() => {
      this.reschedule().catch((err: unknown) => this.#log.warn({ err }, 'replication: could not read the policies\' schedules'));
    }, Math.max(this.#o.settings.poll, 1000));
    this.#watch.unref();
  }

  /** (Re)starts the cron of each scheduled policy whose schedule changed (all at start). */
  async reschedule(): Promise<void> {
    const policies = await this.catalog.policies();
    const schedules = JSON.stringify(policies.map((p) => [p.name, p.settings.enabled, p.settings.trigger.schedule]));
    if (schedules === this.#schedules) return;
    this.#schedules = schedules;
    for (const c of this.#crons) c.stop();
    this.#crons = [];
    for (const p of policies) {
      const line = p.settings.trigger.schedule;
      if (!line || !p.settings.enabled) continue;
      this.#crons.push(new Cron(line, { protect: true }, () => {
        // Every replica fires on the same second: the tick's id makes their jobs one.
        const tick = new Date(Math.round(Date.now() / 1000) * 1000).toISOString();
        this.runNow(p.name, 'schedule', `run-${p.name}-${tick}`).catch((err: unknown) => this.#log.warn({ err, policy: p.name }, 'replication: could not queue a scheduled run'));
      }));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#watch);
    for (const c of this.#crons) c.stop();
    this.#crons = [];
    await this.#worker.stop();
    const runtime = this.#runtime;
    this.#runtime = undefined;
    await (await runtime)?.close();
  }

  async #runJob(job: Job, signal: AbortSignal): Promise<JobCounts> {
    const policy = await this.catalog.policy(job.policy);
    if (!policy) throw new PermanentFailure(`policy ${job.policy} no longer exists`);
    const endpoint = await this.catalog.endpoint(policy.settings.endpoint);
    if (!endpoint) throw new PermanentFailure(`endpoint ${policy.settings.endpoint} of policy ${policy.name} no longer exists`);
    this.#runtime ??= import('./runtime.js').then((m) => new m.ReplicationRuntime());
    return (await this.#runtime).run(job, { policy, endpoint, registry: this.#registry, core: this.#o.core, signal });
  }
}
