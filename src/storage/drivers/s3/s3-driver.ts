// Storage on Amazon S3 or any S3-compatible store (radosgw, MinIO, ...), with the keys laid out
// exactly as Distribution's s3-aws driver lays them (`<rootdirectory>/docker/registry/v2/...`),
// so a bucket written by registry:2 is served as is and the other way round.
// AbortSignals go to every request as the SDK's `abortSignal`; an aborted request changes
// nothing in the bucket (S3 writes an object whole or not at all).
import { addAbortSignal, Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  PathNotFoundError, throwIfAborted,
  type BucketKeys, type ChunkMinimum, type FileInfo, type FileWriter, type IoOptions, type PendingWrites, type Presigner,
  type ReadOptions, type StorageDriver, type WriterOptions,
} from '../../driver.js';
import { isS3NotFound, isS3RangeNotSatisfiable } from './errors.js';
import { abortUpload, copyIntoParts, copyRanges, listUploads } from './multipart.js';
import { createS3Client, resolveOptions, type ResolvedS3Options, type S3DriverOptions } from './options.js';
import { openS3Writer } from './s3-writer.js';
import { PENDING_SUFFIX, pendingKey, pendingSize } from './pending-state.js';

/** S3's limit on keys per DeleteObjects request. */
const DELETE_BATCH = 1000;

export class S3Driver implements StorageDriver, PendingWrites, Presigner, ChunkMinimum, BucketKeys {
  readonly name = 's3';
  readonly client: S3Client;
  readonly #o: ResolvedS3Options;

  constructor(options: S3DriverOptions, client?: S3Client) {
    this.client = client ?? createS3Client(options);
    this.#o = resolveOptions(options);
  }

  /** Clients should send PATCH chunks of at least one part, so appends rarely re-copy data. */
  get minChunkLength(): number {
    return this.#o.chunkSize;
  }

  /** Distribution's s3Path: rootdirectory + path, without a leading slash. */
  key(path: string): string {
    const joined = this.#o.rootKey ? `${this.#o.rootKey}${path}` : path;
    return joined.replace(/^\/+/, '').replace(/\/+$/, '');
  }

  /** The BucketKeys capability (CloudFront URLs): Distribution's S3BucketKey. */
  bucketKey(path: string): string {
    return this.key(path);
  }

  #path(key: string): string {
    return this.#o.rootKey ? key.slice(this.#o.rootKey.length) : `/${key}`;
  }

  /** The prefix of everything under a directory path ('' for the root of an unprefixed bucket). */
  #dirPrefix(path: string): string {
    const k = this.key(path);
    return k === '' ? '' : `${k}/`;
  }

  async getContent(path: string, options?: IoOptions): Promise<Buffer> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.#o.bucket, Key: this.key(path) }), sendOptions(options));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      throw translate(err, path);
    }
  }

  async putContent(path: string, content: Uint8Array | string, options?: IoOptions): Promise<void> {
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    await this.client.send(new PutObjectCommand({
      Bucket: this.#o.bucket, Key: this.key(path), Body: body, ContentLength: body.length,
      ContentType: 'application/octet-stream', ...this.#o.writeParams,
    }), sendOptions(options));
  }

  async reader(path: string, options: ReadOptions = {}): Promise<Readable> {
    const offset = options.offset ?? 0;
    const empty = () => Readable.from([], options.signal ? { signal: options.signal } : {});
    if (options.length === 0) {
      await this.stat(path, options);
      return empty();
    }
    const end = options.length === undefined ? '' : String(offset + options.length - 1);
    try {
      const res = await this.client.send(new GetObjectCommand({
        Bucket: this.#o.bucket, Key: this.key(path), ...(offset > 0 || end ? { Range: `bytes=${offset}-${end}` } : {}),
      }), sendOptions(options));
      const body = res.Body as Readable;
      return options.signal ? addAbortSignal(options.signal, body) : body;
    } catch (err) {
      // A range starting at the end of the object: an empty read, if the object exists.
      if (isS3RangeNotSatisfiable(err)) {
        const info = await this.stat(path, options);
        if (!info.isDir && offset >= info.size) return empty();
      }
      throw translate(err, path);
    }
  }

  async writer(path: string, options: WriterOptions = {}): Promise<FileWriter> {
    throwIfAborted(options);
    return openS3Writer(this.#ctx(path), options.append ?? false);
  }

  /** Data closed but not committed lives in an open multipart upload (s3-writer.ts). */
  async pendingSize(path: string, options?: IoOptions): Promise<number | undefined> {
    throwIfAborted(options);
    return pendingSize(this.#ctx(path));
  }

  #ctx(path: string) {
    return { client: this.client, options: this.#o, key: this.key(path) };
  }

  async #objectSize(key: string, options?: IoOptions): Promise<number | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.#o.bucket, Key: key }), sendOptions(options));
      return res.ContentLength ?? 0;
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw err;
    }
  }

  async stat(path: string, options?: IoOptions): Promise<FileInfo> {
    const key = this.key(path);
    if (key !== '') {
      try {
        const res = await this.client.send(new HeadObjectCommand({ Bucket: this.#o.bucket, Key: key }), sendOptions(options));
        return { path, size: res.ContentLength ?? 0, modTime: res.LastModified ?? new Date(), isDir: false };
      } catch (err) {
        if (!isS3NotFound(err)) throw err;
      }
    }
    const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.#o.bucket, Prefix: this.#dirPrefix(path), MaxKeys: 1 }), sendOptions(options));
    const first = res.Contents?.[0];
    if (!first) throw new PathNotFoundError(path);
    return { path, size: 0, modTime: first.LastModified ?? new Date(), isDir: true };
  }

  async list(path: string, options?: IoOptions): Promise<string[]> {
    const prefix = this.#dirPrefix(path);
    const children: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({
        Bucket: this.#o.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token,
      }), sendOptions(options));
      for (const o of page.Contents ?? []) {
        if (o.Key && o.Key !== prefix && !o.Key.endsWith(PENDING_SUFFIX)) children.push(this.#path(o.Key));
      }
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) children.push(this.#path(p.Prefix.replace(/\/$/, '')));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (children.length === 0 && path !== '/') throw new PathNotFoundError(path);
    return children;
  }

  async move(source: string, dest: string, options?: IoOptions): Promise<void> {
    const from = this.key(source);
    const to = this.key(dest);
    const size = await this.#objectSize(from, options);
    if (size === undefined) throw new PathNotFoundError(source);
    if (from === to) return;
    if (size <= this.#o.copyThreshold) {
      await this.client.send(new CopyObjectCommand({
        Bucket: this.#o.bucket, Key: to, CopySource: `${this.#o.bucket}/${encodeURI(from)}`,
        ContentType: 'application/octet-stream', MetadataDirective: 'REPLACE', ...this.#o.writeParams,
      }), sendOptions(options));
    } else {
      await this.#multipartCopy(from, to, size);
    }
    // The copy is in place: the source goes whatever the signal says, or both would remain.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.#o.bucket, Key: from }));
  }

  /** Above the threshold, parallel UploadPartCopy ranges: large blobs never pass through us. */
  async #multipartCopy(from: string, to: string, size: number): Promise<void> {
    const created = await this.client.send(new CreateMultipartUploadCommand({
      Bucket: this.#o.bucket, Key: to, ContentType: 'application/octet-stream', ...this.#o.writeParams,
    }));
    const uploadId = created.UploadId!;
    try {
      const parts = await copyIntoParts({
        client: this.client, bucket: this.#o.bucket, sourceKey: from, destKey: to, uploadId, firstPartNumber: 1,
        ranges: copyRanges(0, size, this.#o.copyChunkSize), concurrency: this.#o.copyConcurrency,
      });
      await this.client.send(new CompleteMultipartUploadCommand({
        Bucket: this.#o.bucket, Key: to, UploadId: uploadId,
        MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      }));
    } catch (err) {
      await abortUpload(this.client, this.#o.bucket, to, uploadId).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Deletes the object at `path` and everything below it, and aborts multipart uploads there
   * (what an interrupted upload leaves behind, which the upload purger must not leave billed).
   */
  async delete(path: string, options?: IoOptions): Promise<void> {
    const key = this.key(path);
    const prefix = this.#dirPrefix(path);
    const keys: string[] = [];
    if (key !== '' && (await this.#objectSize(key, options)) !== undefined) keys.push(key);
    if (key !== '' && (await this.#objectSize(pendingKey(key), options)) !== undefined) keys.push(pendingKey(key));
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.#o.bucket, Prefix: prefix, ContinuationToken: token }), sendOptions(options));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const uploads = [
      ...(key !== '' ? await listUploads(this.client, this.#o.bucket, key) : []),
      ...await listUploads(this.client, this.#o.bucket, prefix, true),
    ];
    if (keys.length === 0 && uploads.length === 0) throw new PathNotFoundError(path);
    throwIfAborted(options);
    for (const u of uploads) await abortUpload(this.client, this.#o.bucket, u.key, u.uploadId);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const res = await this.client.send(new DeleteObjectsCommand({
        Bucket: this.#o.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }));
      const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) throw new Error(`S3 DeleteObjects failed for ${failed.length} keys: ${failed[0]?.Code} ${failed[0]?.Message}`);
    }
  }

  /** A presigned GET URL for the object at `path`, valid for `expiresInSeconds`. */
  async presignedGetURL(path: string, expiresInSeconds: number, options?: IoOptions): Promise<string> {
    throwIfAborted(options);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.#o.bucket, Key: this.key(path) }), {
      expiresIn: Math.max(1, Math.round(expiresInSeconds)),
    });
  }
}

/** The SDK's per-request options for a call's signal. */
function sendOptions(options: IoOptions | undefined): { abortSignal?: AbortSignal } {
  return options?.signal ? { abortSignal: options.signal } : {};
}

function translate(err: unknown, path: string): unknown {
  return isS3NotFound(err) ? new PathNotFoundError(path) : err;
}
