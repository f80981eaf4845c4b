// Turns registry events into Berth's counters and gauges: pushes, mounts, received bytes,
// upload sessions in progress and storage used per repository. The per-repository figure is
// kept incrementally from links made and removed, after one scan at startup, never by walking
// storage on a scrape.
import type { Registry } from '../registry/registry.js';
import type { RegistryEvent, RegistryListener } from '../events/registry-listener.js';
import { basename, layout, REPOSITORIES } from '../registry/layout.js';
import { tryParseDigest, type Digest } from '../oci/digest.js';
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
    for (const name of await repositoriesWithContent(registry)) {
      if (signal?.aborted) return;
      let total = 0;
      for (const dir of [`${layout.repository(name)}/_layers`, `${layout.repository(name)}/_manifests/revisions`]) {
        for (const digest of await linkedDigests(registry, dir)) total += (await registry.blobs.size(digest)) ?? 0;
      }
      if (total > 0) this.#metrics.repositoryBytes.inc({ repository: name }, total);
    }
  }
}

/** Every repository holding layers or manifests (the catalog lists only the latter). */
async function repositoriesWithContent(registry: Registry): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string, prefix: string): Promise<void> => {
    const children = await registry.driver.list(path).catch(() => [] as string[]);
    if (prefix && children.some((c) => basename(c) === '_layers' || basename(c) === '_manifests')) found.push(prefix);
    for (const child of children) {
      const name = basename(child);
      if (name.startsWith('_')) continue;
      const info = await registry.driver.stat(child).catch(() => undefined);
      if (info?.isDir) await walk(child, prefix ? `${prefix}/${name}` : name);
    }
  };
  await walk(REPOSITORIES, '');
  return found;
}

async function linkedDigests(registry: Registry, dir: string): Promise<Digest[]> {
  const out: Digest[] = [];
  const algorithms = await registry.driver.list(dir).catch(() => [] as string[]);
  for (const algDir of algorithms) {
    const algorithm = algDir.slice(algDir.lastIndexOf('/') + 1);
    for (const entry of await registry.driver.list(algDir).catch(() => [] as string[])) {
      const hex = entry.slice(entry.lastIndexOf('/') + 1);
      const digest = tryParseDigest(`${algorithm}:${hex}`);
      // Anything that is not a digest directory is skipped, as Distribution skips it.
      if (typeof digest !== 'string') out.push(digest);
    }
  }
  return out;
}
