// Test plumbing for the GC: a registry per storage driver, and pushes through the core API
// (no HTTP), so mark and sweep decisions can be checked on both drivers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Registry } from '../../../src/registry/registry.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { MemoryDriver } from '../../../src/storage/drivers/inmemory/index.js';
import { FilesystemDriver } from '../../../src/storage/drivers/filesystem/index.js';
import { tryParseDigest, type Digest } from '../../../src/oci/digest.js';
import type { Blob, Manifest } from '../../helpers/oci-fixtures.js';

export interface DriverCase {
  name: string;
  make(): Promise<{ registry: Registry; driver: StorageDriver; cleanup(): Promise<void> }>;
}

export const DRIVERS: DriverCase[] = [
  { name: 'inmemory', make: async () => {
    const driver = new MemoryDriver();
    return { registry: new Registry(driver), driver, cleanup: async () => {} };
  } },
  {
    name: 'filesystem',
    make: async () => {
      const root = await mkdtemp(join(tmpdir(), 'berth-gc-'));
      const driver = new FilesystemDriver(root);
      return { registry: new Registry(driver), driver, cleanup: () => rm(root, { recursive: true, force: true }) };
    },
  },
];

export function d(digest: string): Digest {
  return tryParseDigest(digest) as Digest;
}

export async function putBlob(registry: Registry, name: string, b: Blob): Promise<void> {
  const id = await registry.uploads.start(name);
  await registry.uploads.complete(name, id, d(b.digest), Readable.from([b.data]));
}

export async function putManifest(registry: Registry, name: string, m: Manifest, tag?: string): Promise<void> {
  await registry.manifests.put(name, tag ? { tag } : { digest: d(m.digest) }, m.body, m.mediaType);
}

export async function putImage(registry: Registry, name: string, config: Blob, layers: Blob[], m: Manifest, tag?: string): Promise<void> {
  for (const b of [config, ...layers]) await putBlob(registry, name, b);
  await putManifest(registry, name, m, tag);
}

export async function hasBlob(registry: Registry, digest: string): Promise<boolean> {
  return (await registry.blobs.size(d(digest))) !== undefined;
}

/** A clock two hours ahead, so that everything written so far is past a 1 h grace period. */
export const later = () => Date.now() + 2 * 3_600_000;
