// What a closed, uncommitted S3 writer leaves behind, so that any replica can continue it: an
// open multipart upload holding the full parts, and one small object beside the data key
// (`<key>.berth-pending`) whose metadata names the upload, how many of its parts count, a digest
// of their ETags and the total size, and whose body is the writer's attachment (the registry's
// hash state) followed by the tail under one part (S3 cannot read an open upload's parts, and
// only the last part may be under 5 MiB). Writing that object is the close's commit point: parts
// a crashed or cancelled writer uploaded past the counted ones are not part of the data, and a
// counted part replaced by a racing writer no longer matches the ETag digest.
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  HeadObjectCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { isS3NotFound } from './errors.js';
import { copyIntoParts, copyRanges, listParts, type UploadedPart } from './multipart.js';
import type { ResolvedS3Options } from './options.js';

export const PENDING_SUFFIX = '.berth-pending';

export interface S3WriterContext {
  client: S3Client;
  options: ResolvedS3Options;
  key: string;
}

export interface PendingState {
  uploadId: string | undefined;
  parts: UploadedPart[];
  /** The bytes after the parts: fewer than one part. */
  tail: Buffer;
  size: number;
  /** Stored with the state by the close that wrote it (AttachingWriter in driver.ts). */
  attachment?: Uint8Array | undefined;
}

const META_UPLOAD = 'berth-upload-id';
const META_PARTS = 'berth-parts';
const META_SIZE = 'berth-size';
const META_ETAGS = 'berth-parts-etags';
const META_ATTACHMENT = 'berth-attachment-length';

/** One value for the counted parts' ETags (S3 metadata is too small for 10,000 of them). */
function etagsDigest(parts: UploadedPart[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.PartNumber}:${p.ETag.replace(/"/g, '')}\n`);
  return h.digest('hex');
}

export const pendingKey = (key: string) => `${key}${PENDING_SUFFIX}`;

export async function pendingSize({ client, options, key }: S3WriterContext): Promise<number | undefined> {
  try {
    const res = await client.send(new HeadObjectCommand({ Bucket: options.bucket, Key: pendingKey(key) }));
    return parseSize(res.Metadata?.[META_SIZE], key);
  } catch (err) {
    if (isS3NotFound(err)) return undefined;
    throw err;
  }
}

/** The pending state at `key` with its parts listed, or undefined when there is none. */
export async function readPendingState(ctx: S3WriterContext): Promise<PendingState | undefined> {
  const { client, options, key } = ctx;
  let meta: Record<string, string>;
  let body: Buffer;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: pendingKey(key) }));
    meta = res.Metadata ?? {};
    body = Buffer.from(await res.Body!.transformToByteArray());
  } catch (err) {
    if (isS3NotFound(err)) return undefined;
    throw err;
  }
  const size = parseSize(meta[META_SIZE], key);
  const attachmentLength = Number(meta[META_ATTACHMENT] ?? '0');
  if (!Number.isSafeInteger(attachmentLength) || attachmentLength < 0 || attachmentLength > body.length) {
    throw new Error(`pending state of ${key} has no valid attachment length`);
  }
  const attachment = attachmentLength > 0 ? body.subarray(0, attachmentLength) : undefined;
  const tail = body.subarray(attachmentLength);
  const uploadId = meta[META_UPLOAD] || undefined;
  const count = Number(meta[META_PARTS] ?? '0');
  if (!uploadId) return { uploadId, parts: [], tail, size, attachment };
  const listed = await listParts(client, options.bucket, key, uploadId).catch((err: unknown) => {
    if (isS3NotFound(err)) throw new Error(`the multipart upload of ${key} is gone (aborted?); its pending data is lost`);
    throw err;
  });
  const parts = listed.slice(0, count);
  const partsBytes = size - tail.length;
  const consistent = parts.length === count && parts.every((p, i) => p.PartNumber === i + 1)
    && parts.reduce((n, p) => n + p.Size, 0) === partsBytes && etagsDigest(parts) === meta[META_ETAGS];
  if (!consistent) throw new Error(`the multipart upload of ${key} does not hold the parts its pending state counts (a concurrent writer?)`);
  const state = { uploadId, parts, tail, size, attachment };
  return listed.length > count ? repair(ctx, state, listed) : state;
}

/**
 * Parts past the counted ones (from a writer that was cancelled or died before its close) cannot
 * be deleted, and radosgw refuses to complete an upload that leaves any out. So the upload is
 * completed whole and its counted prefix copied server-side into a new upload: a re-copy, but
 * only after a failure.
 */
async function repair(ctx: S3WriterContext, state: PendingState, listed: UploadedPart[]): Promise<PendingState> {
  const { client, options, key } = ctx;
  await client.send(new CompleteMultipartUploadCommand({
    Bucket: options.bucket, Key: key, UploadId: state.uploadId,
    MultipartUpload: { Parts: listed.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
  }));
  const partsBytes = state.size - state.tail.length;
  if (partsBytes === 0) return savePending(ctx, { ...state, uploadId: undefined, parts: [] });
  const uploadId = await createUpload(ctx);
  const parts = await copyIntoParts({
    client, bucket: options.bucket, sourceKey: key, destKey: key, uploadId, firstPartNumber: 1,
    ranges: copyRanges(0, partsBytes, options.copyChunkSize), concurrency: options.copyConcurrency,
  });
  return savePending(ctx, { ...state, uploadId, parts });
}

export async function savePending(ctx: S3WriterContext, state: PendingState): Promise<PendingState> {
  const { client, options, key } = ctx;
  const attachment = state.attachment ?? new Uint8Array();
  const body = Buffer.concat([attachment, state.tail]);
  await client.send(new PutObjectCommand({
    Bucket: options.bucket, Key: pendingKey(key), Body: body, ContentLength: body.length,
    ContentType: 'application/octet-stream', ...options.writeParams,
    Metadata: {
      [META_UPLOAD]: state.uploadId ?? '', [META_PARTS]: String(state.parts.length), [META_SIZE]: String(state.size),
      [META_ETAGS]: etagsDigest(state.parts), [META_ATTACHMENT]: String(attachment.length),
    },
  }));
  return state;
}

export async function deletePending({ client, options, key }: S3WriterContext): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: pendingKey(key) })).catch((err: unknown) => {
    if (!isS3NotFound(err)) throw err;
  });
}

export async function createUpload({ client, options, key }: S3WriterContext): Promise<string> {
  const res = await client.send(new CreateMultipartUploadCommand({
    Bucket: options.bucket, Key: key, ContentType: 'application/octet-stream', ...options.writeParams,
  }));
  if (!res.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  return res.UploadId;
}

function parseSize(text: string | undefined, key: string): number {
  const size = Number(text);
  if (text === undefined || !Number.isSafeInteger(size) || size < 0) throw new Error(`pending state of ${key} has no valid size`);
  return size;
}
