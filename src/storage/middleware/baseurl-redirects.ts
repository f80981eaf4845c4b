// Distribution's `redirect` storage middleware: every blob GET goes to baseurl + the storage
// path, for a CDN or mirror that serves the bucket (or the directory) without signatures.
import type { BlobRedirects } from '../driver.js';

export class BaseUrlRedirects implements BlobRedirects {
  readonly #base: URL;

  constructor(baseurl: string) {
    this.#base = new URL(baseurl);
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') {
      throw new Error(`redirect middleware: baseurl must be http(s), got ${baseurl}`);
    }
  }

  async redirectURL(path: string): Promise<string> {
    return joinUrl(this.#base, path);
  }
}

/** base + storage path, keeping any path the base already has. */
export function joinUrl(base: URL, path: string): string {
  const u = new URL(base.href);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${path}`;
  return u.href;
}
