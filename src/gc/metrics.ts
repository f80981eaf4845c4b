// Prometheus instruments for the collector and retention, registered on the Registry the
// metrics feature passes in (no global default registry: two Berths in a process must work).
import { Counter, Histogram, type Registry as PromRegistry } from 'prom-client';
import type { GcReport } from './collector.js';
import type { RetentionReport } from '../policy/retention.js';

export interface GcMetrics {
  recordRun(report: GcReport): void;
  recordFailure(): void;
  recordRetention(report: RetentionReport): void;
}

export function createGcMetrics(registry: PromRegistry): GcMetrics {
  const registers = [registry];
  const runs = new Counter({
    name: 'berth_gc_runs_total', help: 'Garbage collection runs, by outcome', labelNames: ['outcome'] as const, registers,
  });
  const duration = new Histogram({
    name: 'berth_gc_duration_seconds', help: 'Duration of garbage collection runs',
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600], registers,
  });
  const blobs = new Counter({ name: 'berth_gc_blobs_deleted_total', help: 'Blobs deleted by garbage collection', registers });
  const bytes = new Counter({ name: 'berth_gc_reclaimed_bytes_total', help: 'Bytes reclaimed by garbage collection', registers });
  const manifests = new Counter({
    name: 'berth_gc_manifests_deleted_total', help: 'Untagged manifests deleted by garbage collection', registers,
  });
  const restored = new Counter({
    name: 'berth_gc_restored_total', help: 'Items set aside then kept because a concurrent push needed them', registers,
  });
  const tags = new Counter({ name: 'berth_gc_retention_tags_deleted_total', help: 'Tags deleted by retention policies', registers });
  return {
    recordRun(report) {
      runs.inc({ outcome: report.dryRun ? 'dry_run' : 'success' });
      duration.observe(report.durationMs / 1000);
      if (report.dryRun) return;
      blobs.inc(report.blobs.length);
      bytes.inc(report.bytes);
      manifests.inc(report.manifests.length);
      restored.inc(report.restored.length);
    },
    recordFailure() {
      runs.inc({ outcome: 'failure' });
    },
    recordRetention(report) {
      tags.inc(report.deleted);
    },
  };
}
