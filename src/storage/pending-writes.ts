// Optional capability: drivers whose writers can persist data without making it visible (S3
// keeps closed upload data as an open multipart upload, which no GET can read). The registry
// needs the size of such pending data to answer upload status and to resume an append; drivers
// without the capability make closed data visible, so `stat` tells.
import type { FileWriter, StorageDriver } from './driver.js';
import { PathNotFoundError } from './driver.js';

export interface PendingWrites {
  /**
   * Size of the data a writer closed at `path` without committing, or undefined when nothing
   * is pending there (then any committed file's `stat` is the truth).
   */
  pendingSize(path: string): Promise<number | undefined>;
}

export function hasPendingWrites(driver: StorageDriver): driver is StorageDriver & PendingWrites {
  return typeof (driver as Partial<PendingWrites>).pendingSize === 'function';
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
