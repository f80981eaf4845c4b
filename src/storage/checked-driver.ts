// Wraps any driver so that no path outside the grammar (`..`, empty parts, odd characters)
// and no negative offset ever reaches it, whatever the caller's bug. Violations reject the
// returned promise (they never throw synchronously), like any other driver failure. Every
// method and capability passes the same check: they all go through the base's one hook.
import { DriverWrapper, type DriverCall } from './base.js';
import { assertValidPath, InvalidOffsetError } from './driver.js';

export class CheckedDriver extends DriverWrapper {
  protected around<T>(call: DriverCall, op: () => Promise<T>): Promise<T> {
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
    return op();
  }
}
