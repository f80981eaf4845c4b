// Optional capability: drivers whose writers can persist data without making it visible (S3
// keeps closed upload data as an open multipart upload, which no GET can read). The registry
// needs the size of such pending data to answer upload status and to resume an append; drivers
// without the capability make closed data visible, so `stat` tells.
import type { StorageDriver } from './driver.js';
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
