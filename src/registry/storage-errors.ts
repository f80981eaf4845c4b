// Translates the driver's small error set into registry outcomes, once, for the core services.
import { PathNotFoundError } from '../storage/driver.js';

export function isNotFound(err: unknown): boolean {
  return err instanceof PathNotFoundError;
}

/** Runs `op`; a missing path yields `undefined` instead of an error. */
export async function orUndefined<T>(op: Promise<T>): Promise<T | undefined> {
  try {
    return await op;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Deletes a path that may already be gone. */
export async function deleteIfPresent(op: Promise<void>): Promise<void> {
  await orUndefined(op);
}
