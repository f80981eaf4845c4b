// The background work of a serving registry, started once it listens: upload purging (with the
// filesystem's temporary-file sweep), garbage collection and retention on their intervals, and
// the pull-through cache's eviction. One-shot commands never start these.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { StorageDriver } from '../storage/driver.js';
import type { Registry } from '../registry/registry.js';
import type { MetaDatabase } from '../meta/database.js';
import { runCollection, startGcSchedules } from '../gc/schedule.js';
import { reportSummary } from '../gc/report.js';
import type { GcReport } from '../gc/collector.js';
import { auditRetentionDeletion } from '../policy/retention-audit.js';
import { appendAudit } from '../auth/audit.js';
import { afterGcRun } from '../gc/after-run.js';
import type { GcTrigger } from '../gc/run-book.js';
import { startUploadPurger } from './upload-purger.js';
import { startReviewWorker } from '../gc/review-schedule.js';
import type { Observability } from './observability.js';
import type { Inventory } from '../inventory/inventory.js';

export interface SchedulesOptions {
  /** Record each scheduled collection in the audit log (serve does when auth keeps one). */
  auditGcRuns?: boolean;
}

export interface ScheduleParts {
  config: Config;
  logger: FastifyBaseLogger;
  driver: StorageDriver;
  /** Collection and eviction work on the core: their deletions are not client events. */
  core: Registry;
  /** Upload purging and retention work on what clients see (listeners included). */
  registry: Registry;
  meta: MetaDatabase | undefined;
  observability: Observability | undefined;
  /** The read API's inventory: its pull times serve retention's `keeppulledwithin`. */
  inventory?: Inventory | undefined;
}

export async function startSchedules(parts: ScheduleParts, options: SchedulesOptions = {}): Promise<{ stop(): void }> {
  const { config, logger, driver, core, registry, meta, observability: obs, inventory } = parts;
  const filesystemRoot = driver.name === 'filesystem' ? config.storage.filesystem?.rootdirectory : undefined;
  const purger = startUploadPurger(registry, config.storage.maintenance.uploadpurging, logger, {
    readOnly: config.storage.maintenance.readonly.enabled, ...(filesystemRoot ? { filesystemRoot } : {}),
  });
  const recordGcRun = (trigger: GcTrigger) => meta && (async (report: GcReport) => {
    await afterGcRun(meta.db, report, trigger);
    if (options.auditGcRuns) await appendAudit(meta.db, { actor: 'gc-schedule', address: '', action: 'gc.run', target: 'registry', detail: reportSummary(report) });
  });
  // prom-client is loaded only where metrics are collected (server/observability.ts, metricsRead).
  const gcMetrics = obs?.metrics ? (await import('../gc/metrics.js')).createGcMetrics(obs.metrics.registry) : undefined;
  // The audit log is in the metadata database: kept wherever one is open, with or without auth.
  const pulls = inventory && { times: (r: string, d: string[]) => inventory.book.lastPulled(r, d), flush: () => inventory.recorder.flush() };
  const gc = startGcSchedules(registry, config.gc, logger, gcMetrics, recordGcRun('schedule'), meta ? auditRetentionDeletion(meta.db) : undefined, pulls);
  // Eviction unlinks; the collector frees the data, so maxsize bounds the disk.
  const collectAfterEviction = config.proxy.eviction.collect ? () => runCollection(core, config.gc, logger, gcMetrics, recordGcRun('eviction')) : undefined;
  // Only a pull-through cache has anything to evict (and its eviction metrics load prom-client).
  const eviction = meta && config.proxy.upstreams.length > 0
    ? (await import('../proxy/eviction-schedule.js')).startEvictionSchedule(core, meta.db, config.proxy, logger, obs?.metrics?.registry, collectAfterEviction)
    : { stop: () => {} };
  const review = startReviewWorker(meta, core, config, logger);
  return {
    stop() {
      review.stop();
      purger.stop();
      gc.stop();
      eviction.stop();
    },
  };
}
