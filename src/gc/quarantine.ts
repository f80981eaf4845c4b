// Where the sweep parks a blob between "unreferenced at mark time" and "still unreferenced
// after the rescan": a move out of `blobs/` (so the core stops seeing it, and a manifest PUT
// that needs it fails its existence check) that can be undone. Distribution's tools never look
// under `_berth/`. A run that crashed leaves blobs here; the next run puts them back first.
import type { StorageDriver } from '../storage/driver.js';
import { ROOT } from '../registry/layout.js';
import { deleteIfPresent, isNotFound, orUndefined } from '../registry/storage-errors.js';
import { BLOBS, digestDirs } from './inventory.js';

const QUARANTINE = `${ROOT}/_berth/gc/quarantine`;

export function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return `${BLOBS}/${alg}/${hex.slice(0, 2)}/${hex}/data`;
}

export function quarantinePath(digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return `${QUARANTINE}/${alg}/${hex}/data`;
}

/** Parks a blob; false when it was already gone. */
export async function quarantine(driver: StorageDriver, digest: string): Promise<boolean> {
  try {
    await driver.move(blobPath(digest), quarantinePath(digest));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Puts a parked blob back unless identical content was stored meanwhile. */
export async function restore(driver: StorageDriver, digest: string): Promise<void> {
  if (await orUndefined(driver.stat(blobPath(digest)))) {
    await discard(driver, digest);
    return;
  }
  await orUndefined(driver.move(quarantinePath(digest), blobPath(digest)));
  await discard(driver, digest);
}

export async function discard(driver: StorageDriver, digest: string): Promise<void> {
  await deleteIfPresent(driver.delete(quarantinePath(digest).replace(/\/data$/, '')));
}

/** Content of a blob wherever it is now (the rescan reads parked manifests). */
export async function readBlob(driver: StorageDriver, digest: string): Promise<Buffer | undefined> {
  return (await orUndefined(driver.getContent(blobPath(digest)))) ?? orUndefined(driver.getContent(quarantinePath(digest)));
}

/** Puts back everything a previous, interrupted run left parked; returns how many. */
export async function recoverParked(driver: StorageDriver): Promise<number> {
  const parked = await digestDirs(driver, QUARANTINE);
  for (const digest of parked) await restore(driver, digest);
  return parked.length;
}
