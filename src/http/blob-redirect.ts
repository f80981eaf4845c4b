// Asks the storage for a redirect of a blob GET (presigned S3, CloudFront, a base URL): the
// optional capability found by type guard; undefined means "serve the bytes here".
import type { FastifyRequest } from 'fastify';
import type { Digest } from '../oci/digest.js';
import type { Registry } from '../registry/registry.js';
import { layout } from '../registry/layout.js';
import { redirectsOf } from '../storage/middleware/capabilities.js';

export async function blobRedirectURL(req: FastifyRequest, registry: Registry, digest: Digest): Promise<string | undefined> {
  if (req.method !== 'GET') return undefined;
  const redirects = redirectsOf(registry.driver);
  if (!redirects) return undefined;
  const forwarded = req.headers['x-forwarded-for'];
  return redirects.redirectURL(layout.blobData(digest), {
    remoteAddress: req.socket.remoteAddress ?? '',
    forwardedFor: Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
  });
}
