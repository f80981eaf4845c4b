// What `berth serve` runs of this feature: the immutable-tag guard for the core, and the
// collector and retention on their schedules (`gc.interval`, `gc.retention.interval`; both off
// by default). Replicas may all schedule: the storage lock lets one run, the others skip.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Registry } from '../registry/registry.js';
import type { TagGuard } from '../registry/tag-guard.js';
import { collectGarbage, type GcReport } from './collector.js';
import { ImmutableTags } from '../policy/immutable-tags.js';
import { LockHeldError } from './lock.js';
import type { GcMetrics } from './metrics.js';
import { compilePolicies } from '../policy/policies.js';
import { applyRetention, type PullTimes, type RetentionDecision, type RetentionOptions } from '../policy/retention.js';

/** The inventory's pull times for `keeppulledwithin`, and how to write the batch collected so far first. */
export interface RetentionPulls {
  times: PullTimes;
  flush(): Promise<void>;
}

type GcConfig = Config['gc'];

export function tagGuardFrom(gc: GcConfig): TagGuard | undefined {
  return ImmutableTags.from(compilePolicies(gc.retention.projects));
}

/** Called after each scheduled collection (the audit log records it when auth keeps one). */
export type GcRunRecorder = (report: GcReport) => Promise<void>;

/** One collection with the `gc` settings, as the schedule runs it: metrics, audit, log; a held lock skips it. */
export async function runCollection(registry: Registry, gc: GcConfig, logger: FastifyBaseLogger, metrics?: GcMetrics, recordRun?: GcRunRecorder): Promise<void> {
  try {
    const report = await collectGarbage(registry, { dryRun: gc.dryrun, deleteUntagged: gc.deleteuntagged, graceMs: gc.grace });
    metrics?.recordRun(report);
    await recordRun?.(report).catch((err: unknown) => logger.error({ err }, 'garbage collection: audit record lost'));
    logger.info({
      dryRun: report.dryRun, blobs: report.blobs.length, bytes: report.bytes, manifests: report.manifests.length,
      layerLinks: report.layerLinks.length, restored: report.restored.length, durationMs: report.durationMs,
    }, 'garbage collection finished');
  } catch (err) {
    if (err instanceof LockHeldError) {
      logger.info(err.message);
      return;
    }
    metrics?.recordFailure();
    throw err;
  }
}

export function startGcSchedules(registry: Registry, gc: GcConfig, logger: FastifyBaseLogger, metrics?: GcMetrics, recordRun?: GcRunRecorder, recordDeletion?: RetentionOptions['onDeleted'], pulls?: RetentionPulls): { stop(): void } {
  const stops: (() => void)[] = [];
  stops.push(every(gc.interval, logger, 'garbage collection', () => runCollection(registry, gc, logger, metrics, recordRun)));
  const policies = compilePolicies(gc.retention.projects);
  stops.push(every(gc.retention.interval, logger, 'retention', async () => {
    const onDeleted = recordDeletion
      && ((d: RetentionDecision) => recordDeletion(d).catch((err: unknown) => logger.error({ err }, 'retention: audit record lost')));
    // Pulls of the last seconds are still in memory: written first, they count.
    await pulls?.flush();
    const report = await applyRetention(registry, policies, {
      dryRun: gc.retention.dryrun, ...(onDeleted ? { onDeleted } : {}), ...(pulls ? { pullTimes: pulls.times } : {}),
    });
    metrics?.recordRetention(report);
    const deleting = report.decisions.filter((d) => d.action === 'delete');
    for (const d of deleting) logger.info({ repository: d.repository, tag: d.tag, reason: d.reason, dryRun: report.dryRun }, 'retention: tag deleted');
    logger.info({ evaluated: report.decisions.length, deleted: report.deleted, dryRun: report.dryRun }, 'retention finished');
  }));
  return { stop: () => stops.forEach((s) => s()) };
}

/** Runs `work` every `intervalMs` (0 = never), the next run planned when the previous ends. */
export function every(intervalMs: number, logger: FastifyBaseLogger, what: string, work: () => Promise<void>): () => void {
  if (intervalMs <= 0) return () => {};
  let stopped = false;
  let timer = setTimeout(function tick() {
    work().catch((err: unknown) => logger.error({ err }, `${what} failed`)).finally(() => {
      if (stopped) return;
      timer = setTimeout(tick, intervalMs);
      timer.unref();
    });
  }, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
