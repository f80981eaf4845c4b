// Marks for content the sweep is about to delete (`_berth/gc/pending/<alg>/<hex>`, holding
// the mark's expiry; the path is in src/registry/layout.ts because manifest PUT reads it).
// Nothing is moved or hidden: pulls keep working until the real delete, and a mark left by a
// crashed run expires by itself (and the next run clears it first).
import type { StorageDriver } from '../storage/driver.js';
import { gcPending, ROOT } from '../registry/layout.js';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { deleteIfPresent, orUndefined } from '../registry/storage-errors.js';
import { digestDirs } from './inventory.js';

/** How long a mark holds; a sweep that cannot finish within it deletes nothing. */
export const MARK_TTL_MS = 30 * 60_000;
const PENDING = `${ROOT}/_berth/gc/pending`;

export function parse(digest: string): Digest {
  return tryParseDigest(digest) as Digest;
}

export async function markPending(driver: StorageDriver, digest: string, expiresAt: number): Promise<void> {
  await driver.putContent(gcPending(parse(digest)), new Date(expiresAt).toISOString());
}

export async function clearPending(driver: StorageDriver, digest: string): Promise<void> {
  await deleteIfPresent(driver.delete(gcPending(parse(digest))));
}

/** Clears every mark (an interrupted run's); returns how many there were. */
export async function clearAllPending(driver: StorageDriver): Promise<number> {
  const marks = await digestDirs(driver, PENDING);
  if (marks.length > 0) await deleteIfPresent(driver.delete(PENDING));
  return marks.length;
}

export async function readContent(driver: StorageDriver, digest: string): Promise<Buffer | undefined> {
  const d = parse(digest);
  return orUndefined(driver.getContent(`${ROOT}/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}/data`));
}
