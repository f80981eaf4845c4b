// Blob uploads: sessions whose data and start time live in storage (`_uploads/<id>/`), so an
// upload survives a restart and could be continued by another replica. Data is hashed as it
// streams in; the hash state is cached in process and rebuilt from the stored data on a miss.
import { randomUUID } from 'node:crypto';
import type { Digest, DigestAlgorithm } from '../oci/digest.js';
import { Digester } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { RegistryError } from '../errors/index.js';
import { layout } from './layout.js';
import type { BlobStore } from './blob-store.js';
import { deleteIfPresent, orUndefined } from './storage-errors.js';
import { KeyedMutex } from './keyed-mutex.js';

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
  readonly #hashers = new Map<string, Digester>();

  constructor(driver: StorageDriver, blobs: BlobStore) {
    this.#driver = driver;
    this.#blobs = blobs;
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
    const info = await orUndefined(this.#driver.stat(layout.uploadData(name, id)));
    return info?.size ?? 0;
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
      const size = body ? await this.#append(name, id, body, options, digest) : await this.size(name, id);
      if (!body) assertDigest(digest, await this.#digestOf(name, id, digest.algorithm, size));
      if (size === 0) await this.#driver.putContent(layout.uploadData(name, id), new Uint8Array());
      await this.#blobs.adopt(layout.uploadData(name, id), digest);
      await this.#blobs.link(name, digest);
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
    const before = await this.size(name, id);
    if (options.start !== undefined && options.start !== before) {
      throw new RegistryError('RANGE_INVALID', { expectedStart: before, receivedStart: options.start }, { status: 416 });
    }
    const digester = await this.#hasherAt(name, id, before, expected?.algorithm);
    const writer = await this.#driver.writer(layout.uploadData(name, id), { append: true });
    this.#hashers.delete(id);
    try {
      for await (const chunk of body) {
        digester.update(chunk);
        await writer.write(chunk);
      }
      const received = writer.size - before;
      if (options.length !== undefined && received !== options.length) {
        throw new RegistryError('SIZE_INVALID', { declared: options.length, received });
      }
      if (expected) assertDigest(expected, digester.digest());
      await writer.commit();
    } catch (err) {
      await writer.cancel();
      throw err;
    }
    this.#remember(id, digester);
    return writer.size;
  }

  async #hasherAt(name: string, id: string, size: number, algorithm: DigestAlgorithm = 'sha256'): Promise<Digester> {
    const cached = this.#hashers.get(id);
    if (cached && cached.size === size && cached.algorithm === algorithm) return cached;
    const digester = new Digester(algorithm);
    if (size > 0) {
      const reader = await this.#driver.reader(layout.uploadData(name, id), { length: size });
      for await (const chunk of reader) digester.update(chunk as Buffer);
    }
    return digester;
  }

  async #digestOf(name: string, id: string, algorithm: DigestAlgorithm, size: number): Promise<Digest> {
    return (await this.#hasherAt(name, id, size, algorithm)).digest();
  }

  #remember(id: string, digester: Digester): void {
    this.#hashers.set(id, digester);
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

function assertDigest(expected: Digest, actual: Digest): void {
  if (actual.value !== expected.value) throw new RegistryError('DIGEST_INVALID', { expected: expected.value, actual: actual.value });
}
