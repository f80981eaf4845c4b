// What one job does. A `tag` job makes the destination's tag what the source's is now (copied,
// or deleted when the source lost it and the policy replicates deletes), so a burst of pushes
// to a tag ends with the newest digest, whichever push queued the job. A `digest` job follows a
// manifest pushed or deleted by digest (a signature arriving later, a deletion). A `run` job
// walks every repository and tag the policy covers. Copies go through the copy engine of
// `berth copy`/`sync`: indexes whole, referrers with their subjects, blobs the destination has
// skipped, blobs it has in another repository mounted.
import type { Registry } from '../registry/registry.js';
import { RegistryResponseError, type RegistryClient } from '../client/index.js';
import { RegistrySource } from '../transport/registry.js';
import { limiter, pool, type CopyOptions } from '../transport/copy.js';
import { mirroredTags, mirrorTag } from '../transport/mirror.js';
import type { ImageDestination, ImageSource } from '../transport/types.js';
import type { ReplicationPolicy } from './policy.js';
import type { Job, JobCounts } from './job-store.js';
import { LocalDestination, LocalSource, parseDigestOrThrow } from './local-side.js';
import { MountingDestination, type BlobLocations } from './remote-side.js';
import { Bandwidth, throttled } from './throttle.js';
import { PartialFailure } from './failures.js';

export interface RunContext {
  policy: ReplicationPolicy;
  /** The registry clients use: pull policies write through it (their pushes are events too). */
  registry: Registry;
  /** The core: push policies read from it (a replication read is not a client's pull). */
  core: Registry;
  /** The policy's endpoint. */
  client: RegistryClient;
  /** Blobs already on the endpoint, and where (for mounts); shared by the jobs of one endpoint. */
  locations: BlobLocations;
  signal: AbortSignal;
}

type Side = { repository: string; tag: string };

const notFound = (err: unknown) => err instanceof RegistryResponseError && err.status === 404;

export class JobRunner {
  readonly #ctx: RunContext;
  readonly #counts: JobCounts = { images: 0, bytes: 0, skipped: 0, failed: 0 };
  readonly #bandwidth: Bandwidth | undefined;

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
    const cap = ctx.policy.settings.bandwidth;
    this.#bandwidth = cap ? new Bandwidth(cap) : undefined;
  }

  get counts(): JobCounts {
    return { ...this.#counts };
  }

  async run(job: Job): Promise<JobCounts> {
    if (job.kind === 'tag') await this.#tagJob(job.repository, job.reference);
    else if (job.kind === 'digest') await this.#digestJob(job.repository, job.reference);
    else await this.#fullRun();
    return this.counts;
  }

  get #push(): boolean {
    return this.#ctx.policy.settings.direction === 'push';
  }

  async #tagJob(repository: string, tag: string): Promise<void> {
    if (!this.#ctx.policy.coversTag(tag)) return;
    const outcome = await this.#replicateTag({ repository, tag });
    if (outcome === 'absent' && this.#ctx.policy.settings.deletes) await this.#deleteAtDestination(repository, { tag });
  }

  async #digestJob(repository: string, reference: string): Promise<void> {
    const { core, policy } = this.#ctx;
    const digest = parseDigestOrThrow(reference);
    if (await core.manifests.exists(repository, digest)) {
      // Untagged manifests travel with their tags; a referrer pushed after its subject travels alone.
      const stored = await core.manifests.get(repository, { digest });
      if (!policy.settings.referrers || stored.parsed?.subject === undefined) return;
      const destination = this.#destination(policy.destinationOf(repository));
      const result = await this.#copy(new LocalSource(core, repository, reference), destination, undefined, policy.destinationOf(repository));
      this.#counts.images++;
      this.#counts.bytes += result;
      return;
    }
    if (policy.settings.deletes) await this.#deleteAtDestination(repository, { digest: reference });
  }

  /**
   * Every repository the policy covers, `concurrency` images at a time across repositories (a
   * registry of many one-tag repositories is as parallel as one of many tags), their tag lists
   * read `concurrency` repositories ahead. Deletions follow a repository's copies.
   */
  async #fullRun(): Promise<void> {
    const { policy, signal } = this.#ctx;
    const failures: string[] = [];
    const images = limiter(policy.settings.concurrency);
    await pool(await this.#sourceRepositories(), policy.settings.concurrency, async (repository) => {
      signal.throwIfAborted();
      const tags = mirroredTags(await this.#sourceTags(repository), policy.tagFilter);
      await Promise.all(tags.map((tag) => images(async () => {
        signal.throwIfAborted();
        try {
          await this.#replicateTag({ repository, tag });
        } catch (err) {
          if (signal.aborted) throw err;
          this.#counts.failed++;
          failures.push(`${repository}:${tag}: ${(err as Error).message}`);
        }
      })));
      if (policy.settings.deletes) {
        const keep = new Set(tags);
        for (const tag of mirroredTags(await this.#destinationTags(policy.destinationOf(repository)), policy.tagFilter)) {
          if (!keep.has(tag)) await this.#deleteAtDestination(repository, { tag });
        }
      }
    });
    if (failures.length > 0) throw new PartialFailure(this.counts, failures.sort());
  }

  async #sourceRepositories(): Promise<string[]> {
    const { policy, core, client, signal } = this.#ctx;
    if (this.#push) return (await core.catalog.names()).filter((n) => policy.coversRepository(n)).sort();
    const named = policy.literalRepositories();
    return (named ?? (await client.listRepositories(undefined, { signal })).filter((n) => policy.coversRepository(n))).sort();
  }

  async #sourceTags(repository: string): Promise<string[]> {
    if (this.#push) return (await this.#ctx.core.tags.list(repository)) ?? [];
    return this.#ctx.client.listTags(repository, undefined, { signal: this.#ctx.signal }).catch((err: unknown) => {
      if (notFound(err)) return [];
      throw err;
    });
  }

  async #destinationTags(repository: string): Promise<string[]> {
    if (!this.#push) return (await this.#ctx.core.tags.list(repository)) ?? [];
    return this.#ctx.client.listTags(repository, undefined, { signal: this.#ctx.signal }).catch((err: unknown) => {
      if (notFound(err)) return [];
      throw err;
    });
  }

  /** Copies one tag unless the destination has its digest; 'absent' when the source has no such tag. */
  async #replicateTag(src: Side): Promise<'copied' | 'unchanged' | 'absent'> {
    const { policy, core, client, registry, signal } = this.#ctx;
    const dest = policy.destinationOf(src.repository);
    let want: string | undefined;
    let have: string | undefined;
    let source: ImageSource;
    let destination: ImageDestination;
    if (this.#push) {
      want = (await core.tags.resolve(src.repository, src.tag))?.value;
      if (want === undefined) return 'absent';
      have = (await client.headManifest(dest, src.tag, signal))?.digest;
      source = new LocalSource(core, src.repository, src.tag);
      destination = this.#destination(dest);
    } else {
      want = (await client.headManifest(src.repository, src.tag, signal))?.digest;
      if (want === undefined) return 'absent';
      have = (await core.tags.resolve(dest, src.tag))?.value;
      source = new RegistrySource(client, { host: client.host, repository: src.repository, tag: src.tag });
      destination = new LocalDestination(registry, dest);
    }
    if (want === have) {
      this.#counts.skipped++;
      return 'unchanged';
    }
    const bytes = await this.#copy(source, destination, src.tag, dest);
    this.#counts.images++;
    this.#counts.bytes += bytes;
    return 'copied';
  }

  #destination(repository: string): ImageDestination {
    return new MountingDestination(this.#ctx.client, repository, this.#ctx.locations);
  }

  /** One copy through the copy engine; returns the blob bytes sent. */
  async #copy(source: ImageSource, destination: ImageDestination, tag: string | undefined, destRepository: string): Promise<number> {
    const { policy, locations } = this.#ctx;
    const options: CopyOptions = {
      platforms: 'all', referrers: policy.settings.referrers, jobs: policy.settings.concurrency, tag,
      // Any origin: the destinations mount from where they know a blob to be, not from the source.
      origin: { host: '', repository: '' },
      onEvent: (e) => {
        if (e.type === 'blob' && e.state !== 'start' && this.#push) locations.set(e.digest, destRepository);
      },
    };
    const from = this.#bandwidth ? throttled(source, this.#bandwidth) : source;
    try {
      const outcome = await mirrorTag(from, destination, undefined, undefined, options);
      return outcome.status === 'copied' ? outcome.result.bytesCopied : 0;
    } finally {
      // Ends what a failed copy left claimed (the endpoint's client stays open: it is shared).
      await destination.close();
    }
  }

  async #deleteAtDestination(repository: string, ref: { tag: string } | { digest: string }): Promise<void> {
    const { policy, client, registry, core } = this.#ctx;
    const dest = policy.destinationOf(repository);
    if (!this.#push) {
      const local = 'tag' in ref ? { tag: ref.tag } : { digest: parseDigestOrThrow(ref.digest) };
      await registry.manifests.delete(dest, local).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== 'MANIFEST_UNKNOWN' && (err as { code?: unknown }).code !== 'NAME_UNKNOWN') throw err;
      });
      return;
    }
    if ('digest' in ref) {
      await client.deleteManifest(dest, ref.digest).catch((err: unknown) => { if (!notFound(err)) throw err; });
      return;
    }
    const there = await client.headManifest(dest, ref.tag);
    if (!there?.digest) return;
    try {
      await client.deleteManifest(dest, ref.tag);
    } catch (err) {
      if (!(err instanceof RegistryResponseError) || ![400, 405].includes(err.status)) throw err;
      // A registry that deletes by digest only (Distribution): delete the manifest, unless a
      // tag the source keeps names it too.
      const others = (await core.tags.tagsOf(repository, parseDigestOrThrow(there.digest))).filter((t) => t !== ref.tag && policy.coversTag(t));
      if (others.length > 0) throw new Error(`${client.host} deletes manifests only by digest, and ${there.digest} is still tagged ${others.join(', ')} here: tag ${ref.tag} stays there`);
      await client.deleteManifest(dest, there.digest).catch((e: unknown) => { if (!notFound(e)) throw e; });
    }
    this.#counts.images++;
  }
}
