// What the copy engine needs from each end of a copy: a source that yields manifests and blob
// streams, and a destination that takes them. Registries, OCI layouts and the two tarball
// formats implement these; the engine never knows which it is talking to.
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/manifest.js';

export type { Descriptor };

export interface ManifestData {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface ImageSource {
  readonly description: string;
  /** The manifest the reference names (no digest), or the one with `digest`. */
  getManifest(digest?: string): Promise<ManifestData>;
  getBlob(desc: Descriptor): Promise<Readable>;
  /** Manifests whose subject is `digest` (signatures, SBOMs), where the source knows them. */
  referrers?(digest: string): Promise<Descriptor[]>;
  close(): Promise<void>;
}

export interface ImageDestination {
  readonly description: string;
  /** Only single-image formats (docker-archive) say false: they get one platform's manifest. */
  readonly acceptsIndex: boolean;
  /** Same registry as `sourceHost` and able to mount from `fromRepo`: returns true once mounted. */
  tryMount?(desc: Descriptor, sourceHost: string, fromRepo: string): Promise<boolean>;
  hasBlob(desc: Descriptor): Promise<boolean>;
  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void>;
  hasManifest(digest: string): Promise<boolean>;
  /** `tag` undefined: stored by digest only (children of an index, referrers). */
  putManifest(manifest: ManifestData, tag: string | undefined): Promise<void>;
  /** Archives write their index here; a copy that failed never calls it. */
  commit(): Promise<void>;
  close(): Promise<void>;
}

/** Where a registry source lives, for cross-repository mounts. */
export interface RegistryOrigin {
  host: string;
  repository: string;
}
