// The storage middleware's result as a driver: the configured redirects (presigned S3,
// CloudFront, a base URL) become the driver's BlobRedirects capability, found by canRedirect()
// through any wrapper put around it later, like every other capability.
import { ForwardingDriver } from '../base.js';
import type { BlobRedirects, IoOptions, RedirectRequest, StorageDriver } from '../driver.js';

export class RedirectingDriver extends ForwardingDriver implements BlobRedirects {
  readonly #redirects: BlobRedirects;

  constructor(inner: StorageDriver, redirects: BlobRedirects) {
    super(inner);
    this.#redirects = redirects;
  }

  redirectURL(path: string, request: RedirectRequest, options?: IoOptions): Promise<string | undefined> {
    return this.call({ action: 'RedirectURL', paths: [path], signal: options?.signal }, () => this.#redirects.redirectURL(path, request, options));
  }
}
