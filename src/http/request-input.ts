// Reading what a request carries: bounded bodies, byte ranges, digests and page parameters,
// each turned into the spec's error when it is malformed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { RegistryError } from '../errors/index.js';

export function query(req: FastifyRequest, key: string): string | undefined {
  const q = req.query as Record<string, string | string[] | undefined>;
  const v = q[key];
  return Array.isArray(v) ? v[0] : v;
}

export function requireDigest(text: string | undefined, what = 'digest'): Digest {
  if (!text) throw new RegistryError('DIGEST_INVALID', `missing ${what}`);
  const parsed = tryParseDigest(text);
  if (typeof parsed === 'string') {
    throw new RegistryError('DIGEST_INVALID', { digest: text, reason: parsed === 'unsupported-algorithm' ? 'unsupported algorithm' : parsed });
  }
  return parsed;
}

/** Reads a whole (small) body, refusing anything over `limit` bytes with 413. */
export async function readBoundedBody(req: FastifyRequest, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req.raw) {
    total += (chunk as Buffer).length;
    // Past the limit the rest is read and dropped (as a blob upload would be), so that the
    // client, still sending, gets the 413 instead of a reset connection.
    if (total <= limit) chunks.push(chunk as Buffer);
  }
  if (total > limit) throw tooLarge(limit);
  return Buffer.concat(chunks, total);
}

function tooLarge(limit: number): RegistryError {
  return new RegistryError('MANIFEST_INVALID', `manifest exceeds the limit of ${limit} bytes`, { status: 413 });
}

/**
 * The request body as chunks. Leaving the loop early (a full disk, a refused chunk) does not
 * destroy the request, which would cut the connection before the answer is sent; the error
 * hook reads and drops the rest instead.
 */
export function requestBody(req: FastifyRequest): AsyncIterable<Uint8Array> {
  return req.raw.iterator({ destroyOnReturn: false });
}

/** Whether the request carries a body at all (Content-Length > 0 or chunked). */
export function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

export function declaredLength(req: FastifyRequest): number | undefined {
  const length = req.headers['content-length'];
  if (length === undefined) return undefined;
  const n = Number(length);
  if (!Number.isSafeInteger(n) || n < 0) throw new RegistryError('SIZE_INVALID', 'invalid Content-Length');
  return n;
}

/** `Content-Range: <start>-<end>` (the spec's form; `bytes start-end/total` accepted too, if the total holds the range). */
export function parseContentRange(value: string | undefined): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(\d+|\*))?$/.exec(value.trim());
  if (!m) throw new RegistryError('BLOB_UPLOAD_INVALID', `malformed Content-Range "${value}"`, { status: 416 });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new RegistryError('RANGE_INVALID', `Content-Range end before start: "${value}"`, { status: 416 });
  // A total is optional, but one that cannot hold the range contradicts it (RFC 9110 14.4).
  if (m[3] !== undefined && m[3] !== '*' && Number(m[3]) <= end) {
    throw new RegistryError('RANGE_INVALID', `Content-Range total smaller than its end: "${value}"`, { status: 416 });
  }
  return { start, end };
}

export type RangeRequest = { start: number; end: number } | 'unsatisfiable' | undefined;

/** A single `Range: bytes=` request against a blob of `size` bytes; unparseable ones are ignored. */
export function parseRange(value: string | undefined, size: number): RangeRequest {
  if (!value) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  // No byte range of an empty blob exists (RFC 9110 14.1.2).
  if (size === 0) return 'unsatisfiable';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** `n` and `last` of a paginated list; `n` above `max` is clamped. */
export function pageParams(req: FastifyRequest, max?: number): { n: number | undefined; last: string | undefined } {
  const nText = query(req, 'n');
  let n: number | undefined;
  if (nText !== undefined && nText !== '') {
    n = Number(nText);
    if (!Number.isSafeInteger(n) || n < 0) throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: nText });
    if (max !== undefined) n = Math.min(n, max);
  } else if (max !== undefined) {
    n = max;
  }
  return { n, last: query(req, 'last') || undefined };
}

/** Whether an If-None-Match header matches the entity tag of `digest`. */
export function notModified(req: FastifyRequest, digest: Digest): boolean {
  const value = req.headers['if-none-match'];
  if (!value) return false;
  return value.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag(digest) || tag === digest.value;
  });
}

export function etag(digest: Digest): string {
  return `"${digest.value}"`;
}

/** Aborts when the client goes away before its response was sent (upstream work for it stops). */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('the client closed the connection'));
  });
  return controller.signal;
}
