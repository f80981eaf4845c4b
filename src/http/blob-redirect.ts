// Asks the core for a redirect of a blob GET (presigned S3, CloudFront, a base URL: the
// storage's optional capability, which the core finds); undefined means "serve the bytes here".
import type { FastifyRequest } from 'fastify';
import type { Digest } from '../oci/digest.js';
import type { Registry } from '../registry/registry.js';

export async function blobRedirectURL(req: FastifyRequest, registry: Registry, digest: Digest): Promise<string | undefined> {
  if (req.method !== 'GET' || !registry.blobs.redirecting) return undefined;
  const forwarded = req.headers['x-forwarded-for'];
  return registry.blobs.downloadURL(digest, {
    remoteAddress: req.socket.remoteAddress ?? '',
    forwardedFor: Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
  });
}
