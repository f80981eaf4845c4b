// Distribution's `cloudfront` storage middleware: blob GETs answer 307 to a CloudFront URL
// signed with a canned policy, so bytes come from the CDN while the registry keeps auth.
// Clients inside the filtered AWS ranges get the inner redirect (presigned S3) instead.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BlockList } from 'node:net';
import type { AwsIpRanges } from './aws-ip-ranges.js';
import { joinUrl } from './baseurl-redirects.js';
import type { BlobRedirects, RedirectRequest } from './capabilities.js';
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
  /** What clients inside the filtered ranges get (presigned S3); direct serving when absent. */
  inner?: BlobRedirects | undefined;
  now?: () => Date;
}

export function loadPrivateKey(path: string): KeyObject {
  return createPrivateKey(readFileSync(path));
}

export class CloudFrontRedirects implements BlobRedirects {
  readonly #o: CloudFrontOptions;
  readonly #base: URL;

  constructor(options: CloudFrontOptions) {
    this.#o = options;
    this.#base = new URL(options.baseurl);
  }

  async redirectURL(path: string, request: RedirectRequest): Promise<string | undefined> {
    if (this.#o.ipFilter?.contains(clientAddress(request, this.#o.trustedProxies))) {
      return this.#o.inner?.redirectURL(path, request);
    }
    const expires = new Date((this.#o.now?.() ?? new Date()).getTime() + this.#o.durationMs);
    return cloudFrontSignedUrl(joinUrl(this.#base, path), expires, this.#o.keyPairId, this.#o.privateKey);
  }
}
