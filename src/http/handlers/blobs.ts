// Blob reads (GET/HEAD with Range and conditional requests) and blob deletion.
import { RegistryError } from '../../errors/index.js';
import type { Handler } from '../context.js';
import { etag, notModified, parseRange, requireDigest } from '../request-input.js';
import { assertDeleteAllowed } from './guards.js';
import { blobRedirectURL } from '../blob-redirect.js';
import { byDigest } from '../cache-control.js';

export const getBlob: Handler = async ({ req, reply, registry, name, param, shared }) => {
  const digest = requireDigest(param);
  const size = await registry.blobs.sizeIn(name, digest);
  reply.header('Docker-Content-Digest', digest.value);
  const redirect = await blobRedirectURL(req, registry, digest);
  if (redirect) return void reply.code(307).header('Location', redirect).header('Content-Length', 0).send();
  reply.header('ETag', etag(digest));
  reply.header('Cache-Control', byDigest(shared));
  reply.header('Accept-Ranges', 'bytes');
  if (notModified(req, digest)) {
    reply.code(304).send();
    return;
  }
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    throw new RegistryError('RANGE_INVALID', { size, range: req.headers.range }, {
      status: 416, headers: { 'Content-Range': `bytes */${size}` },
    });
  }
  reply.header('Content-Type', 'application/octet-stream');
  if (range) {
    reply.code(206);
    reply.header('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    reply.header('Content-Length', range.end - range.start + 1);
  } else {
    reply.code(200);
    reply.header('Content-Length', size);
  }
  if (req.method === 'HEAD' || size === 0) {
    reply.send();
    return;
  }
  // Fastify destroys the stream if the client goes away, which releases the file.
  reply.send(await registry.blobs.open(name, digest, range, undefined, size));
};

export const deleteBlob: Handler = async ({ reply, registry, settings, name, param }) => {
  assertDeleteAllowed(settings);
  const digest = requireDigest(param);
  await registry.blobs.unlink(name, digest);
  reply.code(202).header('Content-Length', 0).send();
};
