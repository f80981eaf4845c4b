// Multipart-upload plumbing shared by the writer and move(): finding an upload by key (so any
// replica can continue it), listing its parts, and server-side range copies into parts.
import {
  AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MIN_PART_SIZE } from './options.js';

export interface UploadedPart {
  PartNumber: number;
  ETag: string;
  Size: number;
}

export interface PendingUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** In-progress multipart uploads whose key is `key` exactly, or starts with `key` when `prefix`. */
export async function listUploads(client: S3Client, bucket: string, key: string, prefix = false): Promise<PendingUpload[]> {
  const found: PendingUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({
      Bucket: bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker,
    }));
    for (const u of page.Uploads ?? []) {
      if (!u.Key || !u.UploadId) continue;
      if (u.Key === key || (prefix && u.Key.startsWith(key))) {
        found.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) });
      }
    }
    if (!page.IsTruncated) return found;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
    if (!keyMarker && !uploadIdMarker) return found;
  }
}

export async function listParts(client: S3Client, bucket: string, key: string, uploadId: string): Promise<UploadedPart[]> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
    for (const p of page.Parts ?? []) {
      if (p.PartNumber !== undefined && p.ETag && p.Size !== undefined) {
        parts.push({ PartNumber: p.PartNumber, ETag: p.ETag, Size: p.Size });
      }
    }
    if (!page.IsTruncated || !page.NextPartNumberMarker) break;
    marker = page.NextPartNumberMarker;
  }
  return parts.sort((a, b) => a.PartNumber - b.PartNumber);
}

export async function abortUpload(client: S3Client, bucket: string, key: string, uploadId: string): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'NoSuchUpload') throw err;
  }
}

/**
 * Splits [start, end) into copy ranges of `chunk` bytes; a short tail is merged into the range
 * before it, because only the last part of an upload may be under S3's 5 MiB minimum and more
 * parts may follow these.
 */
export function copyRanges(start: number, end: number, chunk: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let from = start; from < end; from += chunk) ranges.push([from, Math.min(end, from + chunk)]);
  const last = ranges[ranges.length - 1];
  const before = ranges[ranges.length - 2];
  if (last && before && last[1] - last[0] < MIN_PART_SIZE) {
    ranges.pop();
    before[1] = last[1];
  }
  return ranges;
}

export interface CopyIntoParts {
  client: S3Client;
  bucket: string;
  sourceKey: string;
  destKey: string;
  uploadId: string;
  firstPartNumber: number;
  ranges: Array<[number, number]>;
  concurrency: number;
}

/** Server-side copies of byte ranges of an object into consecutive parts: no byte passes through us. */
export async function copyIntoParts(c: CopyIntoParts): Promise<UploadedPart[]> {
  const parts: UploadedPart[] = new Array(c.ranges.length);
  let next = 0;
  const source = `${c.bucket}/${encodeURI(c.sourceKey)}`;
  const worker = async () => {
    while (next < c.ranges.length) {
      const i = next++;
      const [from, to] = c.ranges[i]!;
      const partNumber = c.firstPartNumber + i;
      const res = await c.client.send(new UploadPartCopyCommand({
        Bucket: c.bucket, Key: c.destKey, UploadId: c.uploadId, PartNumber: partNumber,
        CopySource: source, CopySourceRange: `bytes=${from}-${to - 1}`,
      }));
      const etag = res.CopyPartResult?.ETag;
      if (!etag) throw new Error(`UploadPartCopy of part ${partNumber} returned no ETag`);
      parts[i] = { PartNumber: partNumber, ETag: etag, Size: to - from };
    }
  };
  await Promise.all(Array.from({ length: Math.min(c.concurrency, c.ranges.length) }, worker));
  return parts;
}
