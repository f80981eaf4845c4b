// Appending to an S3 object, which S3 cannot do in place: the object is rebuilt as a multipart
// upload whose first parts are server-side copies of the old object, followed by the new bytes
// in parts of `chunksize`. At most one part is held in memory. An interrupted writer's upload
// is found again by key (ListMultipartUploads, ListParts) and its copies of the committed bytes
// are reused (the long part for a big object), so any replica can continue after a crash. commit() and close() complete the upload: the data is then
// a plain object, readable by anything (Distribution's driver included).
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { FileWriter } from '../../driver.js';
import { isS3NotFound } from './errors.js';
import { abortUpload, copyIntoParts, copyRanges, listParts, listUploads, type UploadedPart } from './multipart.js';
import { MIN_PART_SIZE, type ResolvedS3Options } from './options.js';

export interface S3WriterContext {
  client: S3Client;
  options: ResolvedS3Options;
  key: string;
}

export async function openS3Writer(ctx: S3WriterContext, append: boolean, existingSize: number | undefined): Promise<S3Writer> {
  const { client, options, key } = ctx;
  const pending = await listUploads(client, options.bucket, key);
  if (!append || existingSize === undefined) {
    // Nothing to continue: uploads left by crashed writers only hold bytes nobody committed.
    for (const u of pending) await abortUpload(client, options.bucket, key, u.uploadId);
    return new S3Writer(ctx, { fresh: !append, initialSize: 0, parts: [], buffer: [] });
  }
  const newest = pending.sort((a, b) => b.initiated.getTime() - a.initiated.getTime())[0];
  for (const u of pending) if (u !== newest) await abortUpload(client, options.bucket, key, u.uploadId);
  let uploadId = newest?.uploadId;
  let parts: UploadedPart[] = [];
  if (uploadId) {
    const listed = await listParts(client, options.bucket, key, uploadId);
    parts = reusableParts(listed, existingSize);
    if (parts.length < listed.length) {
      // It also holds parts of uncommitted bytes, and some S3s (radosgw) refuse to complete an
      // upload that leaves any part out: start over rather than fail at commit.
      await abortUpload(client, options.bucket, key, uploadId);
      uploadId = undefined;
      parts = [];
    }
  }
  const reused = parts.reduce((n, p) => n + p.Size, 0);
  const rest = existingSize - reused;
  let buffer: Buffer[] = [];
  if (rest >= MIN_PART_SIZE) {
    uploadId ??= await createUpload(ctx);
    parts.push(...await copyIntoParts({
      client, bucket: options.bucket, sourceKey: key, destKey: key, uploadId,
      firstPartNumber: parts.length + 1, ranges: copyRanges(reused, existingSize, options.copyChunkSize),
      concurrency: options.copyConcurrency,
    }));
  } else if (rest > 0) {
    // Under one part: read back into the part buffer, the only bytes that pass through us.
    const res = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key, Range: `bytes=${reused}-${existingSize - 1}` }));
    buffer = [Buffer.from(await res.Body!.transformToByteArray())];
  }
  return new S3Writer(ctx, { fresh: false, initialSize: existingSize, parts, buffer, ...(uploadId ? { uploadId } : {}) });
}

/**
 * The parts of an interrupted upload that still hold the committed object's bytes: a prefix of
 * full-size parts within its size. Later parts held uncommitted bytes and are overwritten.
 */
function reusableParts(parts: UploadedPart[], committedSize: number): UploadedPart[] {
  const out: UploadedPart[] = [];
  let total = 0;
  for (const [i, p] of parts.entries()) {
    if (p.PartNumber !== i + 1 || p.Size < MIN_PART_SIZE || total + p.Size > committedSize) break;
    out.push(p);
    total += p.Size;
  }
  return out;
}

async function createUpload({ client, options, key }: S3WriterContext): Promise<string> {
  const res = await client.send(new CreateMultipartUploadCommand({
    Bucket: options.bucket, Key: key, ContentType: 'application/octet-stream', ...options.writeParams,
  }));
  if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  return res.UploadId;
}

interface WriterState {
  fresh: boolean;
  initialSize: number;
  uploadId?: string;
  parts: UploadedPart[];
  buffer: Buffer[];
}

export class S3Writer implements FileWriter {
  readonly #ctx: S3WriterContext;
  readonly #fresh: boolean;
  readonly #initialSize: number;
  #uploadId: string | undefined;
  #parts: UploadedPart[];
  #buffer: Buffer[];
  #bufferBytes: number;
  #size: number;
  #done = false;
  #completed = false;

  constructor(ctx: S3WriterContext, state: WriterState) {
    this.#ctx = ctx;
    this.#fresh = state.fresh;
    this.#initialSize = state.initialSize;
    this.#uploadId = state.uploadId;
    this.#parts = state.parts;
    this.#buffer = state.buffer;
    this.#bufferBytes = state.buffer.reduce((n, b) => n + b.length, 0);
    this.#size = state.initialSize;
  }

  get size(): number {
    return this.#size;
  }

  /** For tests and diagnostics: the multipart upload this writer continues, if any. */
  get uploadId(): string | undefined {
    return this.#uploadId;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#done) throw new Error('write after commit, close or cancel');
    // Copied: the caller may reuse its buffer once write resolves.
    this.#buffer.push(Buffer.from(chunk));
    this.#bufferBytes += chunk.byteLength;
    this.#size += chunk.byteLength;
    if (this.#bufferBytes >= this.#ctx.options.chunkSize) await this.#flushPart();
  }

  async #flushPart(): Promise<void> {
    const body = Buffer.concat(this.#buffer, this.#bufferBytes);
    this.#uploadId ??= await createUpload(this.#ctx);
    const partNumber = this.#parts.length + 1;
    const { client, options, key } = this.#ctx;
    const res = await client.send(new UploadPartCommand({
      Bucket: options.bucket, Key: key, UploadId: this.#uploadId, PartNumber: partNumber,
      Body: body, ContentLength: body.length,
    }));
    if (!res.ETag) throw new Error(`UploadPart ${partNumber} returned no ETag`);
    this.#parts.push({ PartNumber: partNumber, ETag: res.ETag, Size: body.length });
    this.#buffer = [];
    this.#bufferBytes = 0;
  }

  async commit(): Promise<void> {
    if (this.#done) return;
    const { client, options, key } = this.#ctx;
    if (this.#uploadId === undefined) {
      const body = Buffer.concat(this.#buffer, this.#bufferBytes);
      await client.send(new PutObjectCommand({
        Bucket: options.bucket, Key: key, Body: body, ContentLength: body.length,
        ContentType: 'application/octet-stream', ...options.writeParams,
      }));
    } else {
      if (this.#bufferBytes > 0 || this.#parts.length === 0) await this.#flushPart();
      // radosgw 16 answers with an empty ETag here; nothing below needs it.
      await client.send(new CompleteMultipartUploadCommand({
        Bucket: options.bucket, Key: key, UploadId: this.#uploadId,
        MultipartUpload: { Parts: this.#parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
      }));
    }
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#done = true;
    this.#completed = true;
  }

  /** S3 has no half-written object: closing completes the upload, like commit. */
  async close(): Promise<void> {
    await this.commit();
  }

  async cancel(): Promise<void> {
    const { client, options, key } = this.#ctx;
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#done = true;
    if (!this.#completed && this.#uploadId) await abortUpload(client, options.bucket, key, this.#uploadId);
    this.#uploadId = undefined;
    this.#size = this.#initialSize;
    if (this.#fresh) {
      await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key })).catch((err: unknown) => {
        if (!isS3NotFound(err)) throw err;
      });
    } else if (this.#completed) {
      await truncateObject(this.#ctx, this.#initialSize);
    }
  }
}

/** Cuts an object back to its first `size` bytes, by server-side copies of that range onto itself. */
async function truncateObject(ctx: S3WriterContext, size: number): Promise<void> {
  const { client, options, key } = ctx;
  if (size === 0) {
    await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: Buffer.alloc(0), ContentLength: 0, ...options.writeParams }));
    return;
  }
  const uploadId = await createUpload(ctx);
  try {
    const parts = await copyIntoParts({
      client, bucket: options.bucket, sourceKey: key, destKey: key, uploadId, firstPartNumber: 1,
      ranges: copyRanges(0, size, options.copyChunkSize), concurrency: options.copyConcurrency,
    });
    await client.send(new CompleteMultipartUploadCommand({
      Bucket: options.bucket, Key: key, UploadId: uploadId,
      MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
    }));
  } catch (err) {
    await abortUpload(client, options.bucket, key, uploadId).catch(() => undefined);
    throw err;
  }
}
