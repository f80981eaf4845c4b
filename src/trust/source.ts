// Where signatures are read from: the registry core (the server judging its own content) or a
// remote registry through the OCI client (`berth verify`). Discovery (discover.ts) only needs
// these three reads, so the same verification serves both.
import type { Descriptor } from '../oci/manifest.js';

export interface SourceManifest {
  digest: string;
  bytes: Buffer;
}

export interface SignatureSource {
  /** A manifest by tag or digest, undefined when there is none. */
  manifest(repository: string, reference: string): Promise<SourceManifest | undefined>;
  /** Descriptors of the manifests whose subject is `digest`. */
  referrers(repository: string, digest: string): Promise<Descriptor[]>;
  /** A blob of the repository, refused above `limit` bytes (signatures are small). */
  blob(repository: string, digest: string, limit: number): Promise<Buffer>;
}
