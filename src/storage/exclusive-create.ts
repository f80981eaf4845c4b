// Optional capability: create a small file only if nothing is at the path, atomically (O_EXCL
// on a filesystem, If-None-Match: * on object stores). Locks that must hold across processes
// and replicas need it; drivers without it are found by the type guard, never by a throw.
import type { StorageDriver } from './driver.js';

export interface ExclusiveCreate {
  /** Writes `content` at `path` unless something is there; false when it was. */
  createExclusive(path: string, content: Uint8Array | string): Promise<boolean>;
}

export function canCreateExclusive(driver: StorageDriver): driver is StorageDriver & ExclusiveCreate {
  return typeof (driver as Partial<ExclusiveCreate>).createExclusive === 'function';
}
