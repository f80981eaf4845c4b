// Appending to an S3 object, which S3 cannot do in place. A writer sends parts of a multipart
// upload as its buffer fills (at most one part is held in memory) and keeps the upload open on
// close(), recording it in a small pending-state object (pending-state.ts) that also holds the
// tail under one part; the next append, from any replica, continues that upload, so no chunk
// re-copies the ones before it. commit() completes the upload: the data is then a plain object,
// readable by anything (Distribution's driver included). Appending to a committed object (an
// upload Distribution started) first copies it server-side into parts; an interrupted writer's
// copies are found again by key (ListMultipartUploads, ListParts) and reused.
// Memory per writer: the part being filled (chunks are kept, not copied, until it is sent),
// plus, when it continues a pending state, that state's tail and attachment (under one part),
// kept so that a cancel after close can put the state back.
import {
  CompleteMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand,
  PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { AttachingWriter } from '../../driver.js';
import { isS3NotFound } from './errors.js';
import { abortUpload, copyIntoParts, copyRanges, listParts, listUploads, type UploadedPart } from './multipart.js';
import { MIN_PART_SIZE } from './options.js';
import {
  createUpload, deletePending, readPendingState, savePending, type PendingState, type S3WriterContext,
} from './pending-state.js';

export type { S3WriterContext } from './pending-state.js';

export async function openS3Writer(ctx: S3WriterContext, append: boolean): Promise<S3Writer> {
  const { client, options, key } = ctx;
  if (!append) {
    // Nothing to continue: uploads left by crashed writers only hold bytes nobody committed.
    for (const u of await listUploads(client, options.bucket, key)) await abortUpload(client, options.bucket, key, u.uploadId);
    await deletePending(ctx);
    return new S3Writer(ctx, { fresh: true, pending: undefined, visibleSize: undefined, start: emptyState() });
  }
  const pending = await readPendingState(ctx);
  if (pending) return new S3Writer(ctx, { fresh: false, pending, visibleSize: undefined, start: pending });
  const visibleSize = await objectSize(ctx);
  return new S3Writer(ctx, { fresh: false, pending: undefined, visibleSize, start: await continueObject(ctx, visibleSize) });
}

const emptyState = (): PendingState => ({ uploadId: undefined, parts: [], tail: Buffer.alloc(0), size: 0 });

async function objectSize({ client, options, key }: S3WriterContext): Promise<number | undefined> {
  try {
    const res = await client.send(new HeadObjectCommand({ Bucket: options.bucket, Key: key }));
    return res.ContentLength ?? 0;
  } catch (err) {
    if (isS3NotFound(err)) return undefined;
    throw err;
  }
}

/** The starting point for appending to a committed object (or to nothing). */
async function continueObject(ctx: S3WriterContext, existingSize: number | undefined): Promise<PendingState> {
  const { client, options, key } = ctx;
  const pending = await listUploads(client, options.bucket, key);
  if (existingSize === undefined) {
    for (const u of pending) await abortUpload(client, options.bucket, key, u.uploadId);
    return emptyState();
  }
  const newest = pending.sort((a, b) => b.initiated.getTime() - a.initiated.getTime())[0];
  for (const u of pending) if (u !== newest) await abortUpload(client, options.bucket, key, u.uploadId);
  let uploadId = newest?.uploadId;
  let parts: UploadedPart[] = [];
  if (uploadId) {
    const listed = await listParts(client, options.bucket, key, uploadId);
    parts = reusableParts(listed, existingSize);
    if (parts.length < listed.length) {
      // It also holds parts of uncommitted bytes, and radosgw refuses to complete an upload
      // that leaves any part out: start over rather than fail at commit.
      await abortUpload(client, options.bucket, key, uploadId);
      uploadId = undefined;
      parts = [];
    }
  }
  const reused = parts.reduce((n, p) => n + p.Size, 0);
  const rest = existingSize - reused;
  let tail = Buffer.alloc(0);
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
    tail = Buffer.from(await res.Body!.transformToByteArray());
  }
  return { uploadId, parts, tail, size: existingSize };
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

interface WriterStart {
  /** Without append: whatever was at the key goes on cancel. */
  fresh: boolean;
  /** The pending state this writer continues; restored if it is cancelled after a close. */
  pending: PendingState | undefined;
  /** The committed object this writer continues, if it started from one. */
  visibleSize: number | undefined;
  start: PendingState;
}

export class S3Writer implements AttachingWriter {
  readonly #ctx: S3WriterContext;
  readonly #start: WriterStart;
  #uploadId: string | undefined;
  #parts: UploadedPart[];
  #buffer: Uint8Array[];
  #bufferBytes: number;
  #size: number;
  #peakBuffered: number;
  #done = false;
  #closed = false;
  #completed = false;

  constructor(ctx: S3WriterContext, start: WriterStart) {
    this.#ctx = ctx;
    this.#start = start;
    this.#uploadId = start.start.uploadId;
    this.#parts = [...start.start.parts];
    this.#buffer = start.start.tail.length > 0 ? [start.start.tail] : [];
    this.#bufferBytes = start.start.tail.length;
    this.#peakBuffered = this.#bufferBytes;
    this.#size = start.start.size;
  }

  get size(): number {
    return this.#size;
  }

  /** For tests and diagnostics: the multipart upload this writer continues, if any. */
  get uploadId(): string | undefined {
    return this.#uploadId;
  }

  get attachment(): Uint8Array | undefined {
    return this.#start.pending?.attachment;
  }

  /** For tests and diagnostics: the most bytes this writer held at once (one part, plus a chunk). */
  get peakBuffered(): number {
    return this.#peakBuffered;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#done) throw new Error('write after commit, close or cancel');
    // Held without a copy: the FileWriter contract hands chunks over.
    this.#buffer.push(chunk);
    this.#bufferBytes += chunk.byteLength;
    this.#size += chunk.byteLength;
    this.#peakBuffered = Math.max(this.#peakBuffered, this.#bufferBytes);
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

  /** Keeps the multipart upload open: full parts are sent, the tail goes into the pending state. */
  async close(): Promise<void> {
    await this.#close(undefined);
  }

  async closeWith(attachment: Uint8Array): Promise<void> {
    await this.#close(attachment);
  }

  async #close(attachment: Uint8Array | undefined): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    if (this.#bufferBytes >= MIN_PART_SIZE) await this.#flushPart();
    const tail = Buffer.concat(this.#buffer, this.#bufferBytes);
    this.#buffer = [];
    this.#bufferBytes = 0;
    await savePending(this.#ctx, { uploadId: this.#uploadId, parts: this.#parts, tail, size: this.#size, attachment });
    this.#closed = true;
  }

  async commit(): Promise<void> {
    if (this.#completed) return;
    if (this.#done) throw new Error('commit after close or cancel');
    this.#done = true;
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
    this.#completed = true;
    if (this.#start.pending) await deletePending(this.#ctx);
  }

  async cancel(): Promise<void> {
    const { client, options, key } = this.#ctx;
    const start = this.#start;
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#done = true;
    // An upload no pending state names is this writer's (even one it found and reused).
    const ownUpload = this.#uploadId !== undefined && this.#uploadId !== start.pending?.uploadId ? this.#uploadId : undefined;
    if (this.#completed) {
      // The data is a plain object now: cut it back (the same bytes as the state it came from).
      if (start.fresh || (start.visibleSize === undefined && !start.pending)) await deleteObject(this.#ctx);
      else await truncateObject(this.#ctx, start.start.size);
      if (start.pending) await deletePending(this.#ctx);
    } else {
      if (this.#closed) {
        if (start.pending) await savePending(this.#ctx, start.pending);
        else await deletePending(this.#ctx);
      }
      // Parts this writer added to a continued upload stay, uncounted, until the next open repairs it.
      if (ownUpload) await abortUpload(client, options.bucket, key, ownUpload);
      if (start.fresh) await deleteObject(this.#ctx);
    }
    this.#uploadId = start.start.uploadId;
    this.#size = start.start.size;
  }
}

async function deleteObject({ client, options, key }: S3WriterContext): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: key })).catch((err: unknown) => {
    if (!isS3NotFound(err)) throw err;
  });
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
