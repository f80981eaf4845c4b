// What an upstream's `verify:` plugs into the cache: a check every manifest fetched from the
// upstream passes before it is stored (content trust implements it, reading the signatures from
// the upstream through the upstream's own client), and a note of what the cache serves, so a
// verified index vouches for the platform manifests a client asks for next. The cache knows no
// more of trust than this, and trust nothing of the cache.
import type { RegistryClient } from '../client/registry-client.js';
import type { ParsedManifest } from '../oci/manifest.js';

export interface AdmissionRequest {
  /** The upstream's name (`proxy.upstreams[].name`). */
  upstream: string;
  remoteurl: string;
  /** The upstream's client: signatures are read where the manifest came from. */
  client: RegistryClient;
  /** The repository on the upstream, and where its cached copy would live here. */
  remote: string;
  local: string;
  /** What the client asked for: a tag or the digest. */
  reference: string;
  digest: string;
  bytes: Buffer;
  parsed: ParsedManifest | undefined;
}

/** Runs upstream requests under the upstream's breaker and timeout, failures classified as any fetch's. */
export type UpstreamCaller = <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

export interface UpstreamAdmission {
  /** Resolves when the manifest may be cached and served; throws the client's error (DENIED) when not. */
  admit(request: AdmissionRequest, call: UpstreamCaller): Promise<void>;
  /** A manifest the cache serves (it was admitted when stored). */
  served(local: string, digest: string, parsed: ParsedManifest | undefined): void;
}
