// Turns registry events into Berth's counters and gauges: pushes, mounts, received bytes,
// upload sessions in progress and storage used per repository. The per-repository figure is
// kept incrementally from links made and removed, after one scan at startup, never by walking
// storage on a scrape.
import type { Registry } from '../registry/registry.js';
import type { RegistryEvent, RegistryListener } from '../events/registry-listener.js';
import { tryParseDigest } from '../oci/digest.js';
import type { Metrics } from './metrics.js';

/** Upload ids remembered at most (abandoned sessions leave only when purged). */
const MAX_TRACKED_UPLOADS = 100_000;

export class RegistryMetrics implements RegistryListener {
  readonly #metrics: Metrics;
  readonly #uploads = new Set<string>();
  readonly #repositoryUsage: boolean;

  constructor(metrics: Metrics, options: { repositoryUsage: boolean }) {
    this.#metrics = metrics;
    this.#repositoryUsage = options.repositoryUsage;
  }

  event(e: RegistryEvent): void {
    const m = this.#metrics;
    if (e.action === 'push' && e.kind !== 'tag') m.pushes.inc({ kind: e.kind });
    if (e.action === 'mount') m.mounts.inc();
    if (!this.#repositoryUsage || e.size === undefined) return;
    if ((e.action === 'push' || e.action === 'mount') && e.newLink) m.repositoryBytes.inc({ repository: e.repository }, e.size);
    if (e.action === 'delete' && e.kind !== 'tag') m.repositoryBytes.dec({ repository: e.repository }, e.size);
  }

  uploadStarted(_repository: string, id: string): void {
    if (this.#uploads.size >= MAX_TRACKED_UPLOADS) return;
    this.#uploads.add(id);
    this.#metrics.uploadsInProgress.set(this.#uploads.size);
  }

  uploadEnded(id: string): void {
    if (this.#uploads.delete(id)) this.#metrics.uploadsInProgress.set(this.#uploads.size);
  }

  received(kind: 'blob' | 'manifest', bytes: number): void {
    this.#metrics.receivedBytes.inc({ kind }, bytes);
  }

  /**
   * Adds what each repository held at startup (its layer and manifest links), once. A link made
   * while this scan reads the same repository may be counted twice; the gauge is a figure for
   * dashboards, and the next restart recounts.
   */
  async scan(registry: Registry, signal?: AbortSignal): Promise<void> {
    if (!this.#repositoryUsage) return;
    const inventory = registry.maintenance.inventory;
    for (const name of await inventory.repositories().catch(() => [] as string[])) {
      if (signal?.aborted) return;
      let total = 0;
      const { layers, revisions } = await inventory.linked(name).catch(() => ({ layers: [] as string[], revisions: [] as string[] }));
      for (const text of [...layers, ...revisions]) {
        const digest = tryParseDigest(text);
        if (typeof digest !== 'string') total += (await registry.blobs.size(digest)) ?? 0;
      }
      if (total > 0) this.#metrics.repositoryBytes.inc({ repository: name }, total);
    }
  }
}
