// Prometheus instruments of replication, per policy: images and bytes copied, failures, and the
// lag (age of the oldest job still waiting) with the jobs in each state, read from the database
// at scrape time so every replica reports the shared queue.
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import type { JobCounts, JobStore } from './job-store.js';

export interface ReplicationMetrics {
  recordJob(policy: string, counts: JobCounts, outcome: 'done' | 'retry' | 'parked'): void;
}

export function createReplicationMetrics(registry: PromRegistry, store: JobStore): ReplicationMetrics {
  const registers = [registry];
  const images = new Counter({ name: 'berth_replication_images_total', help: 'Images copied or deleted on the other side, by policy.', labelNames: ['policy'] as const, registers });
  const skipped = new Counter({ name: 'berth_replication_images_skipped_total', help: 'Images the other side already had, by policy.', labelNames: ['policy'] as const, registers });
  const bytes = new Counter({ name: 'berth_replication_bytes_total', help: 'Blob bytes sent by replication jobs, by policy.', labelNames: ['policy'] as const, registers });
  const failures = new Counter({ name: 'berth_replication_failures_total', help: 'Failed job attempts, by policy and outcome (retry: queued again; parked: waits for a manual retry).', labelNames: ['policy', 'outcome'] as const, registers });
  new Gauge({
    name: 'berth_replication_lag_seconds', help: 'Age of the oldest queued or running job, by policy (0: nothing waits).', labelNames: ['policy'] as const, registers,
    async collect() {
      this.reset();
      const now = Date.now();
      const oldest = new Map<string, number>();
      for (const s of await store.summary()) {
        if (s.state !== 'queued' && s.state !== 'running') continue;
        oldest.set(s.policy, Math.min(oldest.get(s.policy) ?? now, s.oldest));
      }
      for (const [policy, at] of oldest) this.set({ policy }, Math.max(0, (now - at) / 1000));
    },
  });
  new Gauge({
    name: 'berth_replication_jobs', help: 'Replication jobs by policy and state (done jobs are kept as history).', labelNames: ['policy', 'state'] as const, registers,
    async collect() {
      this.reset();
      for (const s of await store.summary()) this.set({ policy: s.policy, state: s.state }, s.count);
    },
  });
  return {
    recordJob(policy, counts, outcome) {
      images.inc({ policy }, counts.images);
      skipped.inc({ policy }, counts.skipped);
      bytes.inc({ policy }, counts.bytes);
      if (outcome !== 'done') failures.inc({ policy, outcome });
    },
  };
}
