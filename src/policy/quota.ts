// Storage quotas per project (`quota.default`, `quota.projects.<name>`): a push that would take a
// project past its limit is refused with DENIED, and the message says it is the quota, naming
// the project, its limit and its usage (a bare 403 from a full quota costs users hours).
// Checked at the manifest PUT (the bytes the manifest adds to the project: the blobs it
// references that the project does not hold yet, and its own bytes) and at the end of a blob
// upload when the blob is new to the project. Usage counts only what manifests reference, so a
// refused push leaves nothing counted. Checks of one project are serialized in this process, and
// across processes sharing the metadata database by a reservation taken under the project's lock
// (src/meta/quota-reservations.ts), so concurrent pushes into one project, on one replica or
// several, cannot each see the same room.
import { digestOf, type Digest } from '../oci/digest.js';
import { manifestRefs } from '../oci/references.js';
import { RegistryError } from '../errors/index.js';
import type { Registry } from '../registry/registry.js';
import type { ManifestReference, ManifestStore } from '../registry/manifest-store.js';
import type { UploadService } from '../registry/upload-service.js';
import { decorate } from '../registry/decorate.js';
import { KeyedMutex } from '../registry/keyed-mutex.js';
import type { UsageReader } from '../meta/usage.js';
import type { MetaDatabase } from '../meta/database.js';
import { QuotaReservations } from '../meta/quota-reservations.js';
import { formatBytes } from '../gc/report.js';
import { projectOf } from './patterns.js';

export interface QuotaSettings {
  /** Bytes; 0 is no limit. */
  default: number;
  projects: Record<string, number>;
}

export class QuotaPolicy {
  readonly #settings: QuotaSettings;
  readonly #usage: UsageReader;
  readonly #locks = new KeyedMutex();

  readonly #reservations: QuotaReservations | undefined;

  /** With `reservations`, checks hold across processes sharing the metadata database (replicas). */
  constructor(settings: QuotaSettings, usage: UsageReader, reservations?: QuotaReservations) {
    this.#settings = settings;
    this.#usage = usage;
    this.#reservations = reservations;
  }

  /** The project's limit in bytes; 0 is none. */
  limitOf(project: string): number {
    return Object.hasOwn(this.#settings.projects, project) ? this.#settings.projects[project]! : this.#settings.default;
  }

  /**
   * Runs `work` (a manifest write, which is what usage counts) once the project has room for
   * `blobs`, serialized with the project's other checks; refuses with DENIED otherwise.
   */
  async withRoom<T>(repository: string, blobs: { digest: string; size: number }[], work: () => Promise<T>): Promise<T> {
    const project = projectOf(repository);
    if (this.limitOf(project) <= 0) return work();
    return this.#locks.run(project, async () => {
      if (!this.#reservations) {
        await this.assertRoom(repository, blobs);
        return work();
      }
      const limit = this.limitOf(project);
      const release = await this.#reservations.reserve(project, blobs, ({ used, reserved, adding }) => {
        if (adding > 0 && used + reserved + adding > limit) throw quotaExceeded(project, limit, used + reserved, adding);
      });
      try {
        return await work();
      } finally {
        await release();
      }
    });
  }

  /** Refuses with DENIED when `blobs` would take the repository's project past its limit. */
  async assertRoom(repository: string, blobs: { digest: string; size: number }[]): Promise<void> {
    const project = projectOf(repository);
    const limit = this.limitOf(project);
    if (limit <= 0) return;
    const adding = await this.#usage.newBytes(project, blobs);
    if (adding === 0) return;
    const used = (await this.#usage.project(project))?.totalBytes ?? 0;
    if (used + adding > limit) throw quotaExceeded(project, limit, used, adding);
  }
}

/** The quota policy the configuration asks for; undefined when no project has a limit. */
export function quotaFromConfig(settings: QuotaSettings, usage: UsageReader | undefined, warn: (message: string) => void, meta?: MetaDatabase): QuotaPolicy | undefined {
  if (!hasLimits(settings)) return undefined;
  if (usage) return new QuotaPolicy(settings, usage, meta ? new QuotaReservations(meta) : undefined);
  warn('quota: limits are configured but usage is kept with the listing index, which is disabled (meta.index.enabled: false); quotas are not enforced');
  return undefined;
}

function hasLimits(settings: QuotaSettings): boolean {
  return settings.default > 0 || Object.values(settings.projects).some((n) => n > 0);
}

export function quotaExceeded(project: string, limit: number, used: number, adding: number): RegistryError {
  const message = `quota exceeded: project ${project} is limited to ${formatBytes(limit)} and uses ${formatBytes(used)}; `
    + `this push adds ${formatBytes(adding)}`;
  return new RegistryError('DENIED', { reason: 'quota', project, limit, usage: used, adding }, { message });
}

/** The registry with quota checks on manifest PUTs and blob upload completions. */
export function withQuota(registry: Registry, quota: QuotaPolicy): Registry {
  const manifests = decorate<ManifestStore>(registry.manifests, {
    put(name: string, ref: ManifestReference, content: Buffer, contentType: string | undefined) {
      const digest = digestOf(content, 'digest' in ref ? ref.digest.algorithm : 'sha256');
      const blobs = [{ digest: digest.value, size: content.length }, ...manifestRefs(content).sized.map((b) => ({ digest: b.digest, size: b.size ?? 0 }))];
      return quota.withRoom(name, blobs, () => registry.manifests.put(name, ref, content, contentType));
    },
  });
  const uploads = decorate<UploadService>(registry.uploads, {
    async complete(name: string, id: string, digest: Digest, body?: AsyncIterable<Uint8Array>, options: { start?: number; length?: number } = {}) {
      // An early refusal, before the data moves into the blob store; not serialized (the upload
      // itself counts nothing), so the manifest PUT stays the exact check. The size known before
      // the last chunk arrives: what is stored plus what the request declares.
      if (quota.limitOf(projectOf(name)) > 0) {
        const size = (await registry.uploads.size(name, id)) + (body ? options.length ?? 0 : 0);
        await quota.assertRoom(name, [{ digest: digest.value, size }]);
      }
      return registry.uploads.complete(name, id, digest, body, options);
    },
  });
  return { manifests, uploads, blobs: registry.blobs, tags: registry.tags, referrers: registry.referrers,
    catalog: registry.catalog, maintenance: registry.maintenance } satisfies Registry as Registry;
}
