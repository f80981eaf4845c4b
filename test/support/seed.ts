// Test data into a registry through the core API (no HTTP): blobs, manifests and whole images,
// pushed the way the upload and manifest services receive them. The content itself (blobs,
// manifests, indexes, artifacts with their digests) comes from test/support/oci-fixtures.ts.
import { Readable } from 'node:stream';
import type { Registry } from '../../src/registry/registry.js';
import { tryParseDigest, type Digest } from '../../src/oci/digest.js';
import type { Blob, Manifest } from './oci-fixtures.js';

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
