// Wraps any driver so that no path outside the grammar (`..`, empty parts, odd characters)
// and no negative offset ever reaches it, whatever the caller's bug. Violations reject the
// returned promise (they never throw synchronously), like any other driver failure. Every
// method and capability passes the same check: they all go through the base's one hook.
// Failures outside the contract's own errors (EIO, an S3 500, ...) are tagged with the call
// that failed, as Distribution's storagedriver.Error names its driver, so a logged 500 says
// which driver operation on which path broke; their class, code and message stay as they were.
import { DriverWrapper, type DriverCall } from './base.js';
import { assertValidPath, InvalidOffsetError, InvalidPathError, PathNotFoundError } from './driver.js';

/** What a tagged failure carries in its `storageCall` property. */
export interface StorageCallTag {
  driver: string;
  action: string;
  paths: readonly string[];
}

export class CheckedDriver extends DriverWrapper {
  protected async around<T>(call: DriverCall, op: () => Promise<T>): Promise<T> {
    for (const path of call.paths) {
      // Listing the root is the one way to name it; nothing else may address '/'.
      if (!(call.action === 'List' && path === '/')) assertValidPath(path);
    }
    if (call.range) {
      const { offset = 0, length } = call.range;
      const path = call.paths[0] ?? '';
      if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidOffsetError(path, offset);
      if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new InvalidOffsetError(path, length);
    }
    try {
      return await op();
    } catch (err) {
      throw tag(err, { driver: this.name, action: call.action, paths: call.paths });
    }
  }
}

/** The contract's outcomes (not found, bad path, abort) are answers, not failures: left alone. */
function tag(err: unknown, storageCall: StorageCallTag): unknown {
  if (!(err instanceof Error) || Object.hasOwn(err, 'storageCall') || err.name === 'AbortError') return err;
  if (err instanceof PathNotFoundError || err instanceof InvalidPathError || err instanceof InvalidOffsetError) return err;
  try {
    Object.defineProperty(err, 'storageCall', { value: storageCall, enumerable: true, configurable: true });
  } catch {
    // A frozen error stays untagged rather than lost.
  }
  return err;
}
