// Reads what the storage holds, in Distribution's v2 layout (layout.ts): every repository's
// revisions, tags and layer links with their modification times, and every blob with its size
// and modification time. Private to the core: features see it through maintenance.ts. The
// times are what make an online GC safe: they tell fresh writes (a push in flight) from old
// ones, and a later rescan finds what changed.
import { isSupportedAlgorithm, tryParseDigest } from '../oci/digest.js';
import type { StorageDriver } from '../storage/driver.js';
import { basename, layout, ROOT } from './layout.js';
import { readLink } from './links.js';
import { orUndefined } from './storage-errors.js';
import { forEachLimit } from './parallel.js';

export const PARALLEL = 32;

export interface TagState {
  digest: string;
  modTime: number;
}

export interface RepoInventory {
  name: string;
  /** Manifest digest -> revision link mtime (ms). */
  revisions: Map<string, number>;
  tags: Map<string, TagState>;
  /** Blob digest -> layer link mtime (ms). */
  layerLinks: Map<string, number>;
}

export interface BlobEntry {
  digest: string;
  size: number;
  modTime: number;
}

export const BLOBS = `${ROOT}/blobs`;

/** `<base>/<alg>/<hex>` directories as digests (Distribution's link directory shape). */
export async function digestDirs(driver: StorageDriver, base: string): Promise<string[]> {
  const out: string[] = [];
  for (const algDir of (await orUndefined(driver.list(base))) ?? []) {
    const algorithm = basename(algDir);
    if (!isSupportedAlgorithm(algorithm)) continue;
    for (const hexDir of (await orUndefined(driver.list(algDir))) ?? []) {
      const parsed = tryParseDigest(`${algorithm}:${basename(hexDir)}`);
      if (typeof parsed !== 'string') out.push(parsed.value);
    }
  }
  return out;
}

/** mtimes (ms) of `<base>/<alg>/<hex>/link` for every digest under base; missing links are left out. */
async function linkTimes(driver: StorageDriver, base: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await forEachLimit(await digestDirs(driver, base), PARALLEL, async (digest) => {
    const [alg, hex] = digest.split(':') as [string, string];
    const info = await orUndefined(driver.stat(`${base}/${alg}/${hex}/link`));
    if (info && !info.isDir) out.set(digest, info.modTime.getTime());
  });
  return out;
}

export async function readTags(driver: StorageDriver, name: string): Promise<Map<string, TagState>> {
  const out = new Map<string, TagState>();
  const entries = (await orUndefined(driver.list(layout.tags(name)))) ?? [];
  await forEachLimit(entries, PARALLEL, async (entry) => {
    const tag = basename(entry);
    const state = await readTag(driver, name, tag);
    if (state) out.set(tag, state);
  });
  return out;
}

/** One tag's current digest and when it was last pushed; undefined when the tag is gone. */
export async function readTag(driver: StorageDriver, name: string, tag: string): Promise<TagState | undefined> {
  const link = layout.tagCurrentLink(name, tag);
  const [digest, info] = await Promise.all([readLink(driver, link), orUndefined(driver.stat(link))]);
  return digest && info ? { digest: digest.value, modTime: info.modTime.getTime() } : undefined;
}

export function revisionsBase(name: string): string {
  return `${layout.repository(name)}/_manifests/revisions`;
}

export function layersBase(name: string): string {
  return `${layout.repository(name)}/_layers`;
}

export async function inventoryOf(driver: StorageDriver, name: string): Promise<RepoInventory> {
  const [revisions, tags, layerLinks] = await Promise.all([
    linkTimes(driver, revisionsBase(name)), readTags(driver, name), linkTimes(driver, layersBase(name)),
  ]);
  return { name, revisions, tags, layerLinks };
}

/** Revision link mtimes only (the rescan after removal needs nothing else from old repositories). */
export async function revisionTimes(driver: StorageDriver, name: string): Promise<Map<string, number>> {
  return linkTimes(driver, revisionsBase(name));
}

/** Every blob under `blobs/<alg>/<2 hex>/<hex>/data`. */
export async function listBlobs(driver: StorageDriver, visit: (blob: BlobEntry) => void): Promise<void> {
  for (const algDir of (await orUndefined(driver.list(BLOBS))) ?? []) {
    const algorithm = basename(algDir);
    if (!isSupportedAlgorithm(algorithm)) continue;
    for (const prefixDir of (await orUndefined(driver.list(algDir))) ?? []) {
      const hexDirs = (await orUndefined(driver.list(prefixDir))) ?? [];
      await forEachLimit(hexDirs, PARALLEL, async (hexDir) => {
        const parsed = tryParseDigest(`${algorithm}:${basename(hexDir)}`);
        if (typeof parsed === 'string') return;
        const info = await orUndefined(driver.stat(`${hexDir}/data`));
        if (info && !info.isDir) visit({ digest: parsed.value, size: info.size, modTime: info.modTime.getTime() });
      });
    }
  }
}
