// Optional storage capabilities the HTTP layer asks for by type guard, never methods that throw
// "unsupported": blob redirects (presigned S3, CloudFront, a base URL) and the smallest PATCH
// chunk a driver wants (OCI-Chunk-Min-Length).
import { CheckedDriver } from '../checked-driver.js';
import type { StorageDriver } from '../driver.js';

/** Who asks for the blob: the connection's address and its X-Forwarded-For header, if any. */
export interface RedirectRequest {
  remoteAddress: string;
  forwardedFor?: string | undefined;
}

export interface BlobRedirects {
  /** A URL the client may fetch `path` from instead, or undefined to serve it directly. */
  redirectURL(path: string, request: RedirectRequest): Promise<string | undefined>;
}

export interface StorageCapabilities {
  redirects?: BlobRedirects;
  minChunkLength?: number;
}

/** A checked driver that also carries capabilities; the registry core keeps it as it is. */
export class CapableDriver extends CheckedDriver {
  readonly capabilities: StorageCapabilities;

  constructor(inner: StorageDriver, capabilities: StorageCapabilities) {
    super(inner);
    this.capabilities = capabilities;
  }
}

// Found through any checking wrappers put around the capable driver: wrapping it again (as the
// registry core may) must not silently turn redirects off.
function capabilitiesOf(driver: StorageDriver): StorageCapabilities | undefined {
  for (let d: StorageDriver | undefined = driver; d; d = d instanceof CheckedDriver ? d.inner : undefined) {
    if (d instanceof CapableDriver) return d.capabilities;
  }
  return undefined;
}

export function redirectsOf(driver: StorageDriver): BlobRedirects | undefined {
  return capabilitiesOf(driver)?.redirects;
}

export function minChunkLengthOf(driver: StorageDriver): number | undefined {
  return capabilitiesOf(driver)?.minChunkLength;
}

/** Drivers that can presign a direct download (S3). */
export interface Presigner {
  presignedGetURL(path: string, expiresInSeconds: number): Promise<string>;
}

export function canPresign(driver: unknown): driver is Presigner {
  return typeof (driver as Partial<Presigner>).presignedGetURL === 'function';
}
