// This registry as one end of a replication copy: an ImageSource (push policies read from it)
// and an ImageDestination (pull policies write to it) over the core facade, so the copy engine
// of `berth copy`/`sync` (src/transport/copy.ts) moves the bytes either way without HTTP to
// itself. Writes go through the registry the API serves, so they are events like any push.
import { Readable } from 'node:stream';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { looksLikeDigest } from '../oci/reference.js';
import type { Registry } from '../registry/registry.js';
import type { Descriptor, ImageDestination, ImageSource, ManifestData } from '../transport/types.js';

export function parseDigestOrThrow(text: string): Digest {
  const d = tryParseDigest(text);
  if (typeof d === 'string') throw new Error(`"${text}" is not a digest (${d})`);
  return d;
}

export class LocalSource implements ImageSource {
  readonly description: string;
  readonly #registry: Registry;
  readonly #repository: string;
  /** A tag, or a digest (a manifest copied by digest). */
  readonly #tag: string;

  constructor(registry: Registry, repository: string, tag: string) {
    this.#registry = registry;
    this.#repository = repository;
    this.#tag = tag;
    this.description = `local ${repository}:${tag}`;
  }

  async getManifest(digest?: string): Promise<ManifestData> {
    const name = digest ?? this.#tag;
    const ref = looksLikeDigest(name) ? { digest: parseDigestOrThrow(name) } : { tag: name };
    const m = await this.#registry.manifests.get(this.#repository, ref);
    return { bytes: m.content, mediaType: m.mediaType, digest: m.digest.value };
  }

  async getBlob(desc: Descriptor): Promise<Readable> {
    return this.#registry.blobs.open(this.#repository, parseDigestOrThrow(desc.digest));
  }

  referrers(digest: string): Promise<Descriptor[]> {
    return this.#registry.manifests.referrers(this.#repository, parseDigestOrThrow(digest));
  }

  async close(): Promise<void> {}
}

export class LocalDestination implements ImageDestination {
  readonly description: string;
  readonly acceptsIndex = true;
  readonly #registry: Registry;
  readonly #repository: string;

  constructor(registry: Registry, repository: string) {
    this.#registry = registry;
    this.#repository = repository;
    this.description = `local ${repository}`;
  }

  /** A blob stored for another repository is linked, not copied (a local cross-repository mount). */
  async tryMount(desc: Descriptor): Promise<boolean> {
    const digest = parseDigestOrThrow(desc.digest);
    if ((await this.#registry.blobs.size(digest)) === undefined) return false;
    await this.#registry.blobs.link(this.#repository, digest, true);
    return true;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.#registry.blobs.isLinked(this.#repository, parseDigestOrThrow(desc.digest));
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    const uploads = this.#registry.uploads;
    const id = await uploads.start(this.#repository);
    try {
      await uploads.complete(this.#repository, id, parseDigestOrThrow(desc.digest), await open());
    } catch (err) {
      await uploads.cancel(this.#repository, id).catch(() => undefined);
      throw err;
    }
  }

  hasManifest(digest: string): Promise<boolean> {
    return this.#registry.manifests.exists(this.#repository, parseDigestOrThrow(digest));
  }

  async putManifest(m: ManifestData, tag: string | undefined): Promise<void> {
    const ref = tag === undefined ? { digest: parseDigestOrThrow(m.digest) } : { tag };
    await this.#registry.manifests.put(this.#repository, ref, m.bytes, m.mediaType);
  }

  async commit(): Promise<void> {}
  async close(): Promise<void> {}
}
