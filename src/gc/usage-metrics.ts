// `berth_storage_project_bytes`: each project's deduplicated storage, read from the usage
// counters at scrape time (one small query; the counters are kept by every push and delete).
import { Gauge, type Registry as PromRegistry } from 'prom-client';
import type { UsageReader } from '../meta/usage.js';

export function registerUsageMetrics(registry: PromRegistry, usage: UsageReader): void {
  new Gauge({
    name: 'berth_storage_project_bytes',
    help: 'Storage a project uses, in bytes, each blob counted once per project',
    labelNames: ['project'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [project, bytes] of await usage.projectTotals()) this.set({ project }, bytes);
    },
  });
}
