// The collector's lock as the GC room names it: the lock itself lives in the core
// (src/registry/storage-lock.ts), taken through registry.maintenance.lock().
export { DEFAULT_LOCK_TTL_MS, GC_LOCK_PATH, LockHeldError, StorageLock, type LockOptions, type LockRecord } from '../registry/storage-lock.js';
