// THE OCI client: the distribution-spec operations on one registry endpoint. Pull-through
// cache, replication, copy/sync and doctor all speak to registries through this class.
import { Readable } from 'node:stream';
import { digestOf } from '../oci/digest.js';
import { MediaType, baseMediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/manifest.js';
import { Endpoint, header, type EndpointOptions } from './http.js';
import { DigestMismatchError, ListingLimitError, RegistryResponseError } from './errors.js';
import { pushBlobChunked, pushBlobMonolithic } from './blob-push.js';
import { pullScope, pushScope } from './scopes.js';
import { algorithmOf, verifyingStream } from './verifying-stream.js';

/** Everything a registry may answer a manifest request with, OCI first. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
].join(', ');

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Pages of a tag list followed at most: far beyond real registries, short of a Link chain that never ends. */
export const MAX_TAG_PAGES = 1000;

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface ManifestHead {
  mediaType: string;
  digest: string | undefined;
  size: number | undefined;
}

export interface BlobRange {
  start: number;
  /** Inclusive end; open-ended when undefined. */
  end?: number;
}

export interface PushBlobOptions {
  /** Bytes per PATCH; when unset the blob goes in one PUT (monolithic). */
  chunkSize?: number;
  signal?: AbortSignal;
}

export { pullScope, pushScope, verifyingStream };

export class RegistryClient {
  readonly endpoint: Endpoint;

  constructor(options: EndpointOptions | Endpoint) {
    this.endpoint = options instanceof Endpoint ? options : new Endpoint(options);
  }

  get host(): string {
    return this.endpoint.host;
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }

  /** GET /v2/: whether the registry answers, and how it wants to be authenticated. */
  async ping(signal?: AbortSignal): Promise<{ status: number; apiVersion: string | undefined }> {
    const res = await this.endpoint.send({ method: 'GET', path: '/v2/', expect: [200, 401], ...(signal ? { signal } : {}) });
    await res.body.dump();
    return { status: res.status, apiVersion: header(res, 'docker-distribution-api-version') };
  }

  async headManifest(repo: string, reference: string, signal?: AbortSignal): Promise<ManifestHead | undefined> {
    const res = await this.endpoint.send({
      method: 'HEAD', path: `/v2/${repo}/manifests/${reference}`, headers: { accept: MANIFEST_ACCEPT },
      scopes: [pullScope(repo)], expect: [200, 404], trustedOnly: true, ...(signal ? { signal } : {}),
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const length = header(res, 'content-length');
    return { mediaType: baseMediaType(header(res, 'content-type')), digest: header(res, 'docker-content-digest'), size: length === undefined ? undefined : Number(length) };
  }

  /** The manifest bytes, verified against the digest asked for (or the one the registry claims). */
  async getManifest(repo: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.endpoint.send({
      method: 'GET', path: `/v2/${repo}/manifests/${reference}`, headers: { accept: MANIFEST_ACCEPT },
      scopes: [pullScope(repo)], expect: [200], trustedOnly: true, ...(signal ? { signal } : {}),
    });
    const bytes = await readLimited(res.body, MAX_MANIFEST_BYTES, `manifest ${repo}:${reference}`);
    const expected = reference.includes(':') ? reference : header(res, 'docker-content-digest');
    const algorithm = algorithmOf(expected) ?? 'sha256';
    const digest = digestOf(bytes, algorithm).value;
    if (expected && expected !== digest) throw new DigestMismatchError(expected, digest, `manifest ${repo}@${reference}`);
    const mediaType = baseMediaType(header(res, 'content-type')) || mediaTypeInside(bytes);
    return { bytes, mediaType, digest };
  }

  /**
   * Stores a manifest. One with a `subject` on a registry that does not index referrers (no
   * `OCI-Subject` in the answer) is also added to the `sha256-<hex>` tag-schema index, as the
   * distribution spec asks of clients, so referrers() finds it there.
   */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string> {
    const res = await this.endpoint.send({
      method: 'PUT', path: `/v2/${repo}/manifests/${reference}`, headers: { 'content-type': mediaType }, body: bytes,
      scopes: [pushScope(repo)], expect: [201], ...(signal ? { signal } : {}),
    });
    await res.body.dump();
    const digest = header(res, 'docker-content-digest') ?? digestOf(bytes).value;
    const doc = JSON.parse(bytes.toString('utf8')) as { subject?: Descriptor; artifactType?: string; config?: Descriptor; annotations?: Record<string, string> };
    if (doc.subject && !header(res, 'oci-subject')) {
      const artifactType = doc.artifactType ?? doc.config?.mediaType;
      await this.#addToReferrersTag(repo, doc.subject.digest, {
        mediaType, digest, size: bytes.length, ...(artifactType ? { artifactType } : {}), ...(doc.annotations ? { annotations: doc.annotations } : {}),
      });
    }
    return digest;
  }

  async #addToReferrersTag(repo: string, subject: string, desc: Descriptor): Promise<void> {
    const tag = subject.replace(':', '-');
    let manifests: Descriptor[] = [];
    try {
      manifests = (JSON.parse((await this.getManifest(repo, tag)).bytes.toString('utf8')) as { manifests?: Descriptor[] }).manifests ?? [];
    } catch (err) {
      if (!(err instanceof RegistryResponseError && err.status === 404)) throw err;
    }
    if (manifests.some((m) => m.digest === desc.digest)) return;
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...manifests, desc] }));
    await this.putManifest(repo, tag, index, MediaType.ociIndex);
  }

  async deleteManifest(repo: string, digest: string): Promise<void> {
    const res = await this.endpoint.send({ method: 'DELETE', path: `/v2/${repo}/manifests/${digest}`, scopes: [`repository:${repo}:delete`], expect: [202] });
    await res.body.dump();
  }

  /** The blob's size when the repository has it, undefined otherwise. */
  async headBlob(repo: string, digest: string, signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.endpoint.send({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [pullScope(repo)], expect: [200, 404], ...(signal ? { signal } : {}) });
    await res.body.dump();
    if (res.status === 404) return undefined;
    return Number(header(res, 'content-length') ?? NaN);
  }

  /**
   * The blob as a stream. A whole-blob read is verified against its digest while it streams:
   * the stream errors at the end instead of finishing when the bytes are not the blob
   * (unless `verify` is false).
   */
  async getBlob(repo: string, digest: string, options: { range?: BlobRange; signal?: AbortSignal; verify?: boolean } = {}): Promise<{ stream: Readable; size: number | undefined; status: number }> {
    const range: Record<string, string> = options.range ? { range: `bytes=${options.range.start}-${options.range.end ?? ''}` } : {};
    const res = await this.endpoint.send({
      method: 'GET', path: `/v2/${repo}/blobs/${digest}`, headers: range, scopes: [pullScope(repo)],
      expect: options.range ? [200, 206] : [200], ...(options.signal ? { signal: options.signal } : {}),
    });
    const length = header(res, 'content-length');
    const size = length === undefined ? undefined : Number(length);
    // `verify: false` is for a caller that hashes the bytes itself (the pull-through cache
    // writes them through the upload path, which verifies), so they are not hashed twice.
    const verify = !options.range && options.verify !== false;
    const stream = verify ? res.body.pipe(verifyingStream(digest, `blob ${digest}`)) : res.body;
    if (verify) res.body.on('error', (err) => stream.destroy(err));
    return { stream, size, status: res.status };
  }

  /** Cross-repository mount; true when the registry mounted it (201), false when it opened an upload instead. */
  async mountBlob(repo: string, digest: string, fromRepo: string): Promise<boolean> {
    const res = await this.endpoint.send({
      method: 'POST', path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`,
      scopes: [pushScope(repo), pullScope(fromRepo)], expect: [201, 202],
    });
    await res.body.dump();
    if (res.status === 202) {
      // An upload session was opened instead; cancel it so it does not linger.
      const location = header(res, 'location');
      if (location) await this.endpoint.send({ method: 'DELETE', path: this.#absolute(location), scopes: [pushScope(repo)], expect: [204, 404, 405] }).then((r) => r.body.dump()).catch(() => undefined);
    }
    return res.status === 201;
  }

  /** Pushes a blob from a stream factory, verifying its digest while it streams. */
  async pushBlob(repo: string, desc: { digest: string; size: number }, open: () => Readable | Promise<Readable>, options: PushBlobOptions = {}): Promise<void> {
    if (options.chunkSize && desc.size > options.chunkSize) {
      await pushBlobChunked(this, repo, desc, await open(), options.chunkSize, options.signal);
    } else {
      await pushBlobMonolithic(this, repo, desc, await open(), options.signal);
    }
  }

  /** Referrers of a manifest: the referrers API, or the `sha256-<hex>` tag schema where it is missing. */
  async referrers(repo: string, digest: string, artifactType?: string, signal?: AbortSignal): Promise<Descriptor[]> {
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.endpoint.send({
      method: 'GET', path: `/v2/${repo}/referrers/${digest}${query}`, headers: { accept: MediaType.ociIndex }, scopes: [pullScope(repo)],
      expect: [200, 404], trustedOnly: true, ...(signal ? { signal } : {}),
    });
    let index: Buffer | undefined;
    if (res.status === 200 && baseMediaType(header(res, 'content-type')) === MediaType.ociIndex) {
      index = await readLimited(res.body, MAX_MANIFEST_BYTES, 'referrers');
    } else {
      await res.body.dump();
      const tag = digest.replace(':', '-');
      try {
        index = (await this.getManifest(repo, tag, signal)).bytes;
      } catch (err) {
        if (err instanceof RegistryResponseError && err.status === 404) return [];
        throw err;
      }
    }
    const doc = JSON.parse(index.toString('utf8')) as { manifests?: Descriptor[] };
    const all = doc.manifests ?? [];
    return artifactType ? all.filter((d) => d.artifactType === artifactType) : all;
  }

  /**
   * Every tag of a repository, following `Link: <...>; rel="next"` pages: at most `maxPages`
   * (a registry that links on forever is refused, not followed forever), never the same page
   * twice, and stopping when `signal` aborts.
   */
  async listTags(repo: string, pageSize?: number, options: { signal?: AbortSignal; maxPages?: number } = {}): Promise<string[]> {
    const first = `/v2/${repo}/tags/list${pageSize ? `?n=${pageSize}` : ''}`;
    return this.#pages(first, `tag list of ${repo}`, [pullScope(repo)], (doc) => (doc as { tags?: string[] | null }).tags ?? [], options);
  }

  /** Every repository of the catalog (`/v2/_catalog`), its pages followed as `listTags` follows them. */
  async listRepositories(pageSize?: number, options: { signal?: AbortSignal; maxPages?: number } = {}): Promise<string[]> {
    const first = `/v2/_catalog${pageSize ? `?n=${pageSize}` : ''}`;
    return this.#pages(first, 'catalog', ['registry:catalog:*'], (doc) => (doc as { repositories?: string[] | null }).repositories ?? [], options);
  }

  async #pages(first: string, what: string, scopes: string[], items: (doc: unknown) => string[], options: { signal?: AbortSignal; maxPages?: number }): Promise<string[]> {
    const maxPages = options.maxPages ?? MAX_TAG_PAGES;
    const out: string[] = [];
    const seen = new Set<string>();
    let path: string | undefined = first;
    while (path) {
      options.signal?.throwIfAborted();
      const url = this.#absolute(path);
      if (seen.has(url)) throw new ListingLimitError(`${what} links back to a page it already sent (${seen.size} pages)`);
      if (seen.size >= maxPages) throw new ListingLimitError(`${what} has more than ${maxPages} pages`);
      seen.add(url);
      const res = await this.endpoint.send({
        method: 'GET', path, scopes, expect: [200], trustedOnly: true, ...(options.signal ? { signal: options.signal } : {}),
      });
      out.push(...items(JSON.parse((await readLimited(res.body, 16 * 1024 * 1024, what)).toString('utf8'))));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '');
      path = next ? this.#absolute(next[1]!) : undefined;
    }
    return out;
  }

  #absolute(location: string): string {
    return new URL(location, this.endpoint.base).toString();
  }
}

function mediaTypeInside(bytes: Buffer): string {
  try {
    const mt = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof mt === 'string' ? mt : '';
  } catch {
    return '';
  }
}

export async function readLimited(stream: AsyncIterable<Buffer | Uint8Array>, limit: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) throw new Error(`${what} is larger than ${limit} bytes`);
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}
