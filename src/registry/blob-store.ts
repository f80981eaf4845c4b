// Blobs: content-addressed data shared by all repositories, reachable from a repository only
// through its `_layers` link (so one repository cannot read another's blobs by digest alone).
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { RegistryError } from '../errors/index.js';
import { redirectsOf, type RedirectRequest } from '../storage/driver.js';
import { gcPending, layout } from './layout.js';
import { linkExists, writeLink } from './links.js';
import { deleteIfPresent, isNotFound, orUndefined } from './storage-errors.js';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * Told of a blob a push linked into a repository (an upload's end, a cross-repository mount)
 * before the link is written: the metadata database queues its review (src/meta/review-queue.ts),
 * so content no manifest comes to name is collected like content a manifest stopped naming.
 */
export interface UploadReview {
  linked(name: string, digest: Digest): Promise<void>;
  /**
   * A manifest revision a push is about to write, new to the repository: reviewed as an untag
   * is, so one that no tag, index or subject comes to keep (pushed by digest and never named, or
   * stored by a PUT that was then refused) is collected under `gc.untagged: delete`.
   */
  manifest(name: string, digest: Digest): Promise<void>;
}

export class BlobStore {
  readonly #driver: StorageDriver;
  readonly #review: UploadReview | undefined;

  constructor(driver: StorageDriver, review?: UploadReview) {
    this.#driver = driver;
    this.#review = review;
  }

  /** Size of a blob anywhere in the registry, or undefined. */
  async size(digest: Digest): Promise<number | undefined> {
    const info = await orUndefined(this.#driver.stat(layout.blobData(digest)));
    return info && !info.isDir ? info.size : undefined;
  }

  /** Size of a blob linked into `name`; BLOB_UNKNOWN otherwise. */
  async sizeIn(name: string, digest: Digest): Promise<number> {
    if (!(await linkExists(this.#driver, layout.layerLink(name, digest)))) throw blobUnknown(digest);
    const size = await this.size(digest);
    if (size === undefined) throw blobUnknown(digest);
    return size;
  }

  /**
   * The blob's bytes. `size`: the whole blob's size when the caller already knows it (the HTTP
   * handler asked sizeIn first), so decorators that report it need not stat the blob again.
   */
  async open(name: string, digest: Digest, range?: ByteRange, signal?: AbortSignal, size?: number): Promise<Readable> {
    try {
      const options = range ? { offset: range.start, length: range.end - range.start + 1 } : {};
      return await this.#driver.reader(layout.blobData(digest), { ...options, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (isNotFound(err)) throw blobUnknown(digest);
      throw err;
    }
  }

  /** Whether the storage sends blob downloads elsewhere (presigned S3, CloudFront, a base URL). */
  get redirecting(): boolean {
    return redirectsOf(this.#driver) !== undefined;
  }

  /** Where `client` may download the blob instead of from us; undefined: serve the bytes here. */
  async downloadURL(digest: Digest, client: RedirectRequest): Promise<string | undefined> {
    return redirectsOf(this.#driver)?.redirectURL(layout.blobData(digest), client);
  }

  /** Whether an online GC has marked this content for deletion (and the mark has not expired). */
  async pendingDeletion(digest: Digest): Promise<boolean> {
    const mark = await orUndefined(this.#driver.getContent(gcPending(digest)));
    return mark !== undefined && Date.parse(mark.toString('utf8')) > Date.now();
  }

  async isLinked(name: string, digest: Digest): Promise<boolean> {
    return linkExists(this.#driver, layout.layerLink(name, digest));
  }

  /**
   * `pushed`: a push's upload or mount, whose review is queued first (a crash between the two
   * leaves a row that finds no link, never a link no row will look at).
   */
  async link(name: string, digest: Digest, pushed = false): Promise<void> {
    if (pushed) await this.#review?.linked(name, digest);
    await writeLink(this.#driver, layout.layerLink(name, digest), digest);
  }

  /** Removes a blob from one repository (its link); the data stays for the GC to judge. */
  async unlink(name: string, digest: Digest): Promise<void> {
    if (!(await this.isLinked(name, digest))) throw blobUnknown(digest);
    await deleteIfPresent(this.#driver.delete(layout.layerLink(name, digest).replace(/\/link$/, '')));
  }

  /** Moves verified upload data into the blob store; identical content already there wins. */
  async adopt(sourcePath: string, digest: Digest): Promise<void> {
    if ((await this.size(digest)) !== undefined) {
      await deleteIfPresent(this.#driver.delete(sourcePath));
      return;
    }
    await this.#driver.move(sourcePath, layout.blobData(digest));
  }

  /** Stores small content (manifests) by digest, atomically. */
  async putSmall(digest: Digest, content: Uint8Array): Promise<void> {
    if ((await this.size(digest)) !== undefined) return;
    await this.#driver.putContent(layout.blobData(digest), content);
  }

  async getSmall(digest: Digest): Promise<Buffer | undefined> {
    return orUndefined(this.#driver.getContent(layout.blobData(digest)));
  }
}

export function blobUnknown(digest: Digest): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', { digest: digest.value });
}
