// Link files: the small `sha256:<hex>` text files through which repositories point at content.
import { tryParseDigest, type Digest } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { orUndefined } from './storage-errors.js';

export async function readLink(driver: StorageDriver, path: string): Promise<Digest | undefined> {
  const content = await orUndefined(driver.getContent(path));
  if (content === undefined) return undefined;
  const parsed = tryParseDigest(content.toString('utf8').trim());
  return typeof parsed === 'string' ? undefined : parsed;
}

export async function writeLink(driver: StorageDriver, path: string, digest: Digest): Promise<void> {
  await driver.putContent(path, digest.value);
}

export async function linkExists(driver: StorageDriver, path: string): Promise<boolean> {
  return (await readLink(driver, path)) !== undefined;
}
