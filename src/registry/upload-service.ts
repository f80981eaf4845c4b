// Blob uploads: sessions whose data and start time live in storage (`_uploads/<id>/`), so an
// upload survives a restart and can be continued by another replica. A PATCH closes its writer
// (data durable, on S3 still an open multipart upload); only the final PUT commits it, so no
// chunk re-copies the ones before. Data is hashed as it streams in. Where closed data cannot be
// read back (S3), the hash state is saved with the data by every chunk's close, in the same
// write (AttachingWriter in storage/driver.ts), and loaded by whoever continues; elsewhere it is cached in process
// and rebuilt from the stored data on a miss.
import { randomUUID } from 'node:crypto';
import type { Digest, DigestAlgorithm } from '../oci/digest.js';
import { canAttach, hasPendingWrites, writtenSize, type FileWriter, type StorageDriver } from '../storage/driver.js';
import { RegistryError } from '../errors/index.js';
import { minChunkLengthOf } from '../storage/driver.js';
import { layout } from './layout.js';
import type { BlobStore } from './blob-store.js';
import { deleteIfPresent, orUndefined } from './storage-errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { decodeState, inProcessHasher, resumableHasher, type UploadHasher } from './upload-hasher.js';

const UPLOAD_ID = /^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/;
/** Hash states kept in memory at most; older ones are rebuilt from storage when needed. */
const MAX_CACHED_HASHERS = 10_000;

export interface AppendOptions {
  /** First byte of a `Content-Range`; the chunk must continue the upload exactly there. */
  start?: number;
  /** Declared length; a body of another length is refused and leaves the session as it was. */
  length?: number;
}

export class UploadService {
  readonly #driver: StorageDriver;
  readonly #blobs: BlobStore;
  readonly #locks = new KeyedMutex();
  /** In-process hash states, only for drivers whose data can rebuild them (see #resumable). */
  readonly #hashers = new Map<string, UploadHasher>();
  /** Whether closed upload data may be unreadable, so hash states are saved in storage. */
  readonly #resumable: boolean;

  /** The smallest PATCH chunk the storage wants (OCI-Chunk-Min-Length), if it says. */
  get minChunkLength(): number | undefined {
    return minChunkLengthOf(this.#driver);
  }

  constructor(driver: StorageDriver, blobs: BlobStore) {
    this.#driver = driver;
    this.#blobs = blobs;
    this.#resumable = hasPendingWrites(driver);
  }

  static isValidId(id: string): boolean {
    return UPLOAD_ID.test(id);
  }

  async start(name: string): Promise<string> {
    const id = randomUUID();
    await this.#driver.putContent(layout.uploadStartedAt(name, id), new Date().toISOString());
    return id;
  }

  /** Bytes received so far; BLOB_UPLOAD_UNKNOWN when there is no such session. */
  async size(name: string, id: string): Promise<number> {
    await this.#assertExists(name, id);
    return (await writtenSize(this.#driver, layout.uploadData(name, id))) ?? 0;
  }

  async append(name: string, id: string, body: AsyncIterable<Uint8Array>, options: AppendOptions = {}): Promise<number> {
    return this.#locks.run(id, () => this.#append(name, id, body, options));
  }

  /** Finishes an upload (with an optional last chunk), verifies the digest, links the blob. */
  async complete(
    name: string, id: string, digest: Digest, body?: AsyncIterable<Uint8Array>, options: AppendOptions = {},
  ): Promise<number> {
    return this.#locks.run(id, async () => {
      // A last chunk is verified before it is kept: a wrong digest leaves the session as it was.
      const size = body ? await this.#append(name, id, body, options, digest) : await this.#verifyAndCommit(name, id, digest);
      if (size === 0) await this.#driver.putContent(layout.uploadData(name, id), new Uint8Array());
      await this.#blobs.adopt(layout.uploadData(name, id), digest);
      await this.#blobs.link(name, digest, true);
      await this.#forget(name, id);
      return size;
    });
  }

  async cancel(name: string, id: string): Promise<void> {
    await this.#locks.run(id, async () => {
      await this.#assertExists(name, id);
      await this.#forget(name, id);
    });
  }

  async #append(name: string, id: string, body: AsyncIterable<Uint8Array>, options: AppendOptions, expected?: Digest): Promise<number> {
    await this.#assertExists(name, id);
    // The writer first: on S3 it reads the pending data's record and hash state in one request.
    const writer = await this.#driver.writer(layout.uploadData(name, id), { append: true });
    const cached = this.#hashers.get(id);
    this.#hashers.delete(id);
    try {
      const before = writer.size;
      if (options.start !== undefined && options.start !== before) {
        throw new RegistryError('RANGE_INVALID', { expectedStart: before, receivedStart: options.start }, { status: 416 });
      }
      const hasher = await this.#hasherAt(name, id, before, attachmentOf(writer), cached, expected?.algorithm, !expected);
      for await (const chunk of body) {
        hasher.update(chunk);
        await writer.write(chunk);
      }
      const received = writer.size - before;
      if (options.length !== undefined && received !== options.length) {
        throw new RegistryError('SIZE_INVALID', { declared: options.length, received });
      }
      if (expected) {
        assertDigest(expected, hasher.digest());
        await writer.commit();
      } else {
        const state = hasher.save();
        if (state && canAttach(writer)) await writer.closeWith(state);
        else await writer.close();
        if (!this.#resumable) this.#remember(id, hasher);
      }
    } catch (err) {
      await writer.cancel();
      throw err;
    }
    return writer.size;
  }

  /** A PUT without a last chunk: checks the digest of what the PATCHes left, then commits it. */
  async #verifyAndCommit(name: string, id: string, digest: Digest): Promise<number> {
    const path = layout.uploadData(name, id);
    const pending = hasPendingWrites(this.#driver) && (await this.#driver.pendingSize(path)) !== undefined;
    if (!pending) {
      // Visible data (or none): nothing to commit; the hash comes from the cache or the data.
      const size = await this.size(name, id);
      assertDigest(digest, (await this.#hasherAt(name, id, size, undefined, this.#hashers.get(id), digest.algorithm)).digest());
      return size;
    }
    await this.#assertExists(name, id);
    const writer = await this.#driver.writer(path, { append: true });
    try {
      assertDigest(digest, (await this.#hasherAt(name, id, writer.size, attachmentOf(writer), undefined, digest.algorithm)).digest());
      await writer.commit();
    } catch (err) {
      await writer.cancel();
      throw err;
    }
    return writer.size;
  }

  /**
   * The hash of the upload's first `size` bytes: cached, from the state the data's last close
   * attached, or rebuilt by reading the data. `resume` asks for a hasher whose state can be saved.
   */
  async #hasherAt(
    name: string, id: string, size: number, attachment: Uint8Array | undefined, cached: UploadHasher | undefined,
    algorithm: DigestAlgorithm = 'sha256', resume = false,
  ): Promise<UploadHasher> {
    if (cached && cached.size === size && cached.algorithm === algorithm) return cached;
    if (this.#resumable) {
      const state = attachment && decodeState(Buffer.from(attachment.buffer, attachment.byteOffset, attachment.byteLength), algorithm, size);
      if (state) return resumableHasher(algorithm, { state, size });
      // Resumed chunks need a state to save; a last chunk finishing here does not.
      if (resume || size > 0) return this.#rebuild(name, id, size, await resumableHasher(algorithm));
    }
    return this.#rebuild(name, id, size, inProcessHasher(algorithm));
  }

  /** Hashes the stored data again: only for data that is readable (committed, or never pending). */
  async #rebuild(name: string, id: string, size: number, hasher: UploadHasher): Promise<UploadHasher> {
    if (size === 0) return hasher;
    const path = layout.uploadData(name, id);
    if (hasPendingWrites(this.#driver) && (await this.#driver.pendingSize(path)) !== undefined) {
      // Pending data cannot be read, and its saved hash state is gone: the client must start over.
      throw new RegistryError('BLOB_UPLOAD_INVALID', { id, reason: 'hash state of the upload is lost' });
    }
    const reader = await this.#driver.reader(path, { length: size });
    for await (const chunk of reader) hasher.update(chunk as Buffer);
    return hasher;
  }

  #remember(id: string, hasher: UploadHasher): void {
    this.#hashers.set(id, hasher);
    if (this.#hashers.size > MAX_CACHED_HASHERS) {
      const oldest = this.#hashers.keys().next().value;
      if (oldest !== undefined) this.#hashers.delete(oldest);
    }
  }

  async #forget(name: string, id: string): Promise<void> {
    this.#hashers.delete(id);
    await deleteIfPresent(this.#driver.delete(layout.upload(name, id)));
  }

  async #assertExists(name: string, id: string): Promise<void> {
    if (!UploadService.isValidId(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { id });
    const started = await orUndefined(this.#driver.stat(layout.uploadStartedAt(name, id)));
    if (!started) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { id });
  }

  /** Removes sessions started before `cutoff`; returns their ids (for uploadpurging). */
  async purgeOlderThan(name: string, cutoff: Date, dryRun = false): Promise<string[]> {
    const dir = `${layout.repository(name)}/_uploads`;
    const entries = (await orUndefined(this.#driver.list(dir))) ?? [];
    const purged: string[] = [];
    for (const entry of entries) {
      const id = entry.slice(entry.lastIndexOf('/') + 1);
      const started = await orUndefined(this.#driver.getContent(`${entry}/startedat`));
      const startedAt = started ? new Date(started.toString('utf8').trim()) : undefined;
      const stale = !startedAt || Number.isNaN(startedAt.getTime()) || startedAt < cutoff;
      if (!stale) continue;
      purged.push(id);
      if (!dryRun) await this.#locks.run(id, () => this.#forget(name, id));
    }
    return purged;
  }
}

function attachmentOf(writer: FileWriter): Uint8Array | undefined {
  return canAttach(writer) ? writer.attachment : undefined;
}

function assertDigest(expected: Digest, actual: Digest): void {
  if (actual.value !== expected.value) throw new RegistryError('DIGEST_INVALID', { expected: expected.value, actual: actual.value });
}
