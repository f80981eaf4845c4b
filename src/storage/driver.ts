// The storage driver contract: a small path-based interface (Distribution's, made async),
// so the same registry core runs on a directory, in memory, or on S3.
import type { Readable } from 'node:stream';

export interface FileInfo {
  path: string;
  size: number;
  modTime: Date;
  isDir: boolean;
}

/**
 * Appends bytes to one file of a private area (upload data). Such files become visible as
 * content only through `move()`, after the registry has verified their digest.
 *
 * Chunks are handed over: a writer may keep a reference to a chunk (no copy) until its
 * commit, close or cancel resolves, so callers pass buffers they will not change afterwards
 * (request bodies are fresh buffers anyway). Copying every chunk was the filesystem
 * driver's main cost on large pushes.
 */
export interface FileWriter {
  /** Bytes in the file so far, including any that existed before an append. */
  readonly size: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the written data durable and visible (stat, reader, getContent, move see it). */
  commit(): Promise<void>;
  /** Discards everything this writer wrote: truncates an append back, removes a fresh file. */
  cancel(): Promise<void>;
  /**
   * Makes the written data durable for a later append (from any process) and releases
   * resources. The data need not be visible until a writer commits: an object store keeps it
   * as an open multipart upload (PendingWrites below tells its size). The
   * filesystem and memory drivers simply make it visible, like commit.
   */
  close(): Promise<void>;
}

/**
 * What every I/O method accepts. An aborted signal rejects the call with an AbortError and
 * leaves nothing half-written (a put or create either happened whole or not at all).
 */
export interface IoOptions {
  signal?: AbortSignal | undefined;
}

export interface ReadOptions extends IoOptions {
  offset?: number;
  /** Number of bytes to read from `offset`; to the end when omitted. */
  length?: number;
}

export interface WriterOptions extends IoOptions {
  append?: boolean;
}

export interface StorageDriver {
  readonly name: string;
  getContent(path: string, options?: IoOptions): Promise<Buffer>;
  /** Writes the whole file atomically (temp + rename or equivalent). */
  putContent(path: string, content: Uint8Array | string, options?: IoOptions): Promise<void>;
  /** The signal also destroys the returned stream when it aborts later. */
  reader(path: string, options?: ReadOptions): Promise<Readable>;
  /** The signal covers opening the writer; the writer's own calls are its caller's to stop. */
  writer(path: string, options?: WriterOptions): Promise<FileWriter>;
  stat(path: string, options?: IoOptions): Promise<FileInfo>;
  /** Full paths of the direct children of a directory. */
  list(path: string, options?: IoOptions): Promise<string[]>;
  /** Moves a file into place, replacing any file at `dest`. */
  move(source: string, dest: string, options?: IoOptions): Promise<void>;
  /** Deletes a file or a whole subtree. */
  delete(path: string, options?: IoOptions): Promise<void>;
}

/** Rejects with the signal's AbortError when it has aborted: the check every driver makes first. */
export function throwIfAborted(options: IoOptions | undefined): void {
  options?.signal?.throwIfAborted();
}

// Optional capabilities. Each is found one way only: its type guard below, which looks at the
// driver itself. Wrappers (base.ts) offer a capability exactly when the driver they wrap has it,
// so the guards see through any stack of wrappers without unwrapping anything. They live in the
// contract file because the registry core and the HTTP layer use them (import rules: those see
// only the storage contract).

// Drivers whose writers can persist data without making it visible (S3 keeps closed upload data
// as an open multipart upload, which no GET can read). The registry needs the size of such
// pending data to answer upload status and to resume an append; drivers without the capability
// make closed data visible, so `stat` tells.
export interface PendingWrites {
  /**
   * Size of the data a writer closed at `path` without committing, or undefined when nothing
   * is pending there (then any committed file's `stat` is the truth).
   */
  pendingSize(path: string, options?: IoOptions): Promise<number | undefined>;
}

export function hasPendingWrites(driver: StorageDriver): driver is StorageDriver & PendingWrites {
  return typeof (driver as Partial<PendingWrites>).pendingSize === 'function';
}

// Create a small file only if nothing is at the path, atomically (O_EXCL on a filesystem,
// If-None-Match: * on object stores). Locks that must hold across processes and replicas (the GC
// lock) need it; drivers without it are found by the type guard, never by a throw.
export interface ExclusiveCreate {
  /** Writes `content` at `path` unless something is there; false when it was. */
  createExclusive(path: string, content: Uint8Array | string, options?: IoOptions): Promise<boolean>;
}

export function canCreateExclusive(driver: StorageDriver): driver is StorageDriver & ExclusiveCreate {
  return typeof (driver as Partial<ExclusiveCreate>).createExclusive === 'function';
}

/** Drivers that can presign a direct download (S3). */
export interface Presigner {
  presignedGetURL(path: string, expiresInSeconds: number, options?: IoOptions): Promise<string>;
}

export function canPresign(driver: StorageDriver): driver is StorageDriver & Presigner {
  return typeof (driver as Partial<Presigner>).presignedGetURL === 'function';
}

/** Who asks for the blob: the connection's address and its X-Forwarded-For header, if any. */
export interface RedirectRequest {
  remoteAddress: string;
  forwardedFor?: string | undefined;
}

/** Blob GETs may be answered by a redirect (presigned S3, CloudFront, a base URL). */
export interface BlobRedirects {
  /** A URL the client may fetch `path` from instead, or undefined to serve it directly. */
  redirectURL(path: string, request: RedirectRequest, options?: IoOptions): Promise<string | undefined>;
}

export function canRedirect(driver: StorageDriver): driver is StorageDriver & BlobRedirects {
  return typeof (driver as Partial<BlobRedirects>).redirectURL === 'function';
}

/** The redirects of a driver that has them (the HTTP layer's form of canRedirect). */
export function redirectsOf(driver: StorageDriver): BlobRedirects | undefined {
  return canRedirect(driver) ? driver : undefined;
}

/** Drivers that want PATCH chunks of at least some size (OCI-Chunk-Min-Length; S3's part size). */
export interface ChunkMinimum {
  readonly minChunkLength: number;
}

export function hasChunkMinimum(driver: StorageDriver): driver is StorageDriver & ChunkMinimum {
  return typeof (driver as Partial<ChunkMinimum>).minChunkLength === 'number';
}

export function minChunkLengthOf(driver: StorageDriver): number | undefined {
  return hasChunkMinimum(driver) ? driver.minChunkLength : undefined;
}

/** Drivers over a bucket: the object key of a storage path (what CloudFront URLs are made of). */
export interface BucketKeys {
  bucketKey(path: string): string;
}

export function hasBucketKeys(driver: StorageDriver): driver is StorageDriver & BucketKeys {
  return typeof (driver as Partial<BucketKeys>).bucketKey === 'function';
}

/** Bytes written at `path` so far, pending or committed; undefined when there are none. */
export async function writtenSize(driver: StorageDriver, path: string): Promise<number | undefined> {
  if (hasPendingWrites(driver)) {
    const pending = await driver.pendingSize(path);
    if (pending !== undefined) return pending;
  }
  try {
    return (await driver.stat(path)).size;
  } catch (err) {
    if (err instanceof PathNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Optional capability of a writer on such a driver: a small attachment stored atomically with
 * the pending data on close, handed to the next writer that continues it. The registry keeps
 * the upload's hash state there, so data and hash state can never come from different writes
 * (two replicas racing on one upload make the next append fail, never a blob whose bytes
 * differ from its digest).
 */
export interface AttachingWriter extends FileWriter {
  /** What the close that left the continued data pending attached, if anything. */
  readonly attachment: Uint8Array | undefined;
  /** Like close(), storing `attachment` with the pending data in the same write. */
  closeWith(attachment: Uint8Array): Promise<void>;
}

export function canAttach(writer: FileWriter): writer is AttachingWriter {
  return typeof (writer as Partial<AttachingWriter>).closeWith === 'function';
}

export class PathNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`path not found: ${path}`);
    this.name = 'PathNotFoundError';
  }
}

export class InvalidPathError extends Error {
  constructor(readonly path: string) {
    super(`invalid storage path: ${JSON.stringify(path)}`);
    this.name = 'InvalidPathError';
  }
}

export class InvalidOffsetError extends Error {
  constructor(readonly path: string, readonly offset: number) {
    super(`invalid offset ${offset} for ${path}`);
    this.name = 'InvalidOffsetError';
  }
}

/** Distribution's path grammar: absolute, components of [A-Za-z0-9._-], no dot-only parts. */
const PATH_GRAMMAR = /^(\/[A-Za-z0-9._-]+)+$/;

export function isValidPath(path: string): boolean {
  return PATH_GRAMMAR.test(path) && !path.split('/').some((part) => part === '.' || part === '..');
}

export function assertValidPath(path: string): void {
  if (!isValidPath(path)) throw new InvalidPathError(path);
}
