// Whether a failure means the storage ran out of space or quota. The HTTP error hook answers it
// with STORAGE_FULL and the health check names it; it is a fact about the error, so it lives
// here rather than in the core's storage-error translation.

/** A write refused for lack of space or quota (the filesystem's ENOSPC/EDQUOT, wherever wrapped). */
export function isStorageFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}
