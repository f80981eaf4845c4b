// Distribution's `cloudfront` storage middleware: blob GETs answer 307 to a CloudFront URL
// signed with a canned policy, so bytes come from the CDN while the registry keeps auth.
// Clients inside the filtered AWS ranges get the inner redirect (presigned S3) instead.
// The URL is Distribution's exactly: `baseurl` (https:// added when it has no scheme, a slash
// at its end) followed by the object's full S3 key, rootdirectory included, so a distribution
// set up for registry:2 (origin = the bucket, no origin path) serves Berth's redirects too.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BlockList } from 'node:net';
import type { AwsIpRanges } from './aws-ip-ranges.js';
import type { BlobRedirects, RedirectRequest } from '../driver.js';
import { clientAddress } from './client-address.js';
import { cloudFrontSignedUrl } from './cloudfront-signer.js';

export interface CloudFrontOptions {
  baseurl: string;
  /** PEM text of the key pair's private key, or a path to it. */
  privateKey: KeyObject;
  keyPairId: string;
  durationMs: number;
  ipFilter?: AwsIpRanges | undefined;
  trustedProxies: BlockList;
  /**
   * The bucket key of a storage path (Distribution's S3BucketKey: rootdirectory + path, no
   * leading slash); without one (not S3) the path itself, without its leading slash.
   */
  keyOf?: ((path: string) => string) | undefined;
  /** What clients inside the filtered ranges get (presigned S3); direct serving when absent. */
  inner?: BlobRedirects | undefined;
  now?: () => Date;
}

export function loadPrivateKey(path: string): KeyObject {
  return createPrivateKey(readFileSync(path));
}

export class CloudFrontRedirects implements BlobRedirects {
  readonly #o: CloudFrontOptions;
  readonly #base: string;

  constructor(options: CloudFrontOptions) {
    this.#o = options;
    this.#base = cloudFrontBase(options.baseurl);
  }

  async redirectURL(path: string, request: RedirectRequest): Promise<string | undefined> {
    if (this.#o.ipFilter?.contains(clientAddress(request, this.#o.trustedProxies))) {
      return this.#o.inner?.redirectURL(path, request);
    }
    const expires = new Date((this.#o.now?.() ?? new Date()).getTime() + this.#o.durationMs);
    const key = this.#o.keyOf ? this.#o.keyOf(path) : path.replace(/^\/+/, '');
    return cloudFrontSignedUrl(`${this.#base}${key}`, expires, this.#o.keyPairId, this.#o.privateKey);
  }
}

/** Distribution's reading of `baseurl`: https:// when no scheme is given, and a trailing slash. */
export function cloudFrontBase(baseurl: string): string {
  let base = baseurl.includes('://') ? baseurl : `https://${baseurl}`;
  if (!base.endsWith('/')) base += '/';
  new URL(base); // throws on an invalid baseurl, at start
  return base;
}
