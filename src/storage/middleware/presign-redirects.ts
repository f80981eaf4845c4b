// Distribution's default for S3 (storage.redirect.disable: false): blob GETs go straight to the
// bucket through a presigned URL, so the registry hands out authorization, not bytes.
import type { BlobRedirects, Presigner } from '../driver.js';

export class PresignRedirects implements BlobRedirects {
  constructor(readonly presigner: Presigner, readonly expirySeconds: number) {}

  async redirectURL(path: string): Promise<string> {
    return this.presigner.presignedGetURL(path, this.expirySeconds);
  }
}
