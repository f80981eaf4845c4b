// Manifests by tag or digest: GET/HEAD (with conditional requests), PUT, DELETE.
import type { Handler } from '../context.js';
import { parseReference, type ManifestReference } from '../../registry/manifest-store.js';
import { RegistryError } from '../../errors/index.js';
import { etag, notModified, readBoundedBody } from '../request-input.js';
import { externalUrl } from '../urls.js';
import { assertDeleteAllowed, assertWritable } from './guards.js';
import { byDigest, byTag } from '../cache-control.js';

export const getManifest: Handler = async ({ req, reply, registry, name, param, shared }) => {
  const ref = referenceToRead(param);
  const manifest = await registry.manifests.get(name, ref);
  reply.header('Docker-Content-Digest', manifest.digest.value);
  reply.header('ETag', etag(manifest.digest));
  reply.header('Cache-Control', 'digest' in ref ? byDigest(shared) : byTag(shared));
  if (notModified(req, manifest.digest)) {
    reply.code(304).send();
    return;
  }
  reply.header('Content-Type', manifest.mediaType);
  reply.header('Content-Length', manifest.content.length);
  reply.code(200).send(req.method === 'HEAD' ? undefined : manifest.content);
};

/** A reference that is no valid tag names no manifest: reading it is 404, as the spec's conformance suite asks. */
function referenceToRead(param: string): ManifestReference {
  try {
    return parseReference(param);
  } catch (err) {
    if (err instanceof RegistryError && err.code === 'MANIFEST_INVALID') throw new RegistryError('MANIFEST_UNKNOWN', { reference: param, reason: 'not a valid tag' });
    throw err;
  }
}

export const putManifest: Handler = async ({ req, reply, registry, settings, name, param }) => {
  assertWritable(settings);
  const ref = parseReference(param);
  const body = await readBoundedBody(req, settings.maxManifestBytes);
  const result = await registry.manifests.put(name, ref, body, req.headers['content-type']);
  reply.header('Location', externalUrl(req, settings, `/v2/${name}/manifests/${result.digest.value}`));
  reply.header('Docker-Content-Digest', result.digest.value);
  if (result.subject) reply.header('OCI-Subject', result.subject.value);
  reply.code(201).header('Content-Length', 0).send();
};

export const deleteManifest: Handler = async ({ reply, registry, settings, name, param }) => {
  assertDeleteAllowed(settings);
  await registry.manifests.delete(name, parseReference(param));
  reply.code(202).header('Content-Length', 0).send();
};
