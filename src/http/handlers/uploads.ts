// Blob uploads: start (plain, monolithic or cross-repository mount), chunks, status, finish, cancel.
import { isValidName } from '../../oci/reference.js';
import { RegistryError, isRegistryError } from '../../errors/index.js';
import type { Handler, RouteContext } from '../context.js';
import { externalUrl } from '../urls.js';
import { declaredLength, hasBody, parseContentRange, query, requestBody, requireDigest } from '../request-input.js';
import { assertWritable } from './guards.js';
import type { Digest } from '../../oci/digest.js';

export const startUpload: Handler = async (ctx) => {
  const { req, registry, settings, name } = ctx;
  assertWritable(settings);
  const mount = query(req, 'mount');
  if (mount !== undefined && (await tryMount(ctx, requireDigest(mount, 'mount digest')))) return;
  const digestParam = query(req, 'digest');
  if (digestParam !== undefined) {
    const digest = requireDigest(digestParam);
    const id = await registry.uploads.start(name);
    try {
      await registry.uploads.complete(name, id, digest, requestBody(req), lengthOption(ctx));
    } catch (err) {
      // The session was ours alone: a failed single-request upload leaves nothing behind.
      await registry.uploads.cancel(name, id).catch(() => undefined);
      throw err;
    }
    created(ctx, digest);
    return;
  }
  const id = await registry.uploads.start(name);
  uploadAccepted(ctx, id, 0);
};

async function tryMount(ctx: RouteContext, digest: Digest): Promise<boolean> {
  const from = query(ctx.req, 'from');
  const { registry, name } = ctx;
  const source = from === undefined ? await discoverSource(ctx, digest) : from;
  if (source === undefined) return false;
  if (!isValidName(source)) throw new RegistryError('NAME_INVALID', { from: source });
  if (!(await registry.blobs.isLinked(source, digest)) || (await registry.blobs.size(digest)) === undefined) return false;
  await registry.blobs.link(name, digest, true);
  created(ctx, digest);
  return true;
}

/**
 * Automatic content discovery: a repository the caller may pull (the catalog's own filter) that
 * holds the blob, looked for among the first `maxRepositories`. Nothing found is a plain upload,
 * so a blob the caller could not read never becomes theirs by its digest alone.
 */
async function discoverSource(ctx: RouteContext, digest: Digest): Promise<string | undefined> {
  const { registry, settings, visible } = ctx;
  if (!settings.automaticMount.enabled || (await registry.blobs.size(digest)) === undefined) return undefined;
  let last: string | undefined;
  for (let seen = 0; seen < settings.automaticMount.maxRepositories;) {
    const page = await registry.catalog.page({ n: Math.min(100, settings.automaticMount.maxRepositories - seen), last });
    seen += page.items.length;
    for (const repo of visible ? await visible(page.items) : page.items) {
      if (await registry.blobs.isLinked(repo, digest)) return repo;
    }
    if (!page.more || page.items.length === 0) return undefined;
    last = page.items[page.items.length - 1];
  }
  return undefined;
}

export const patchUpload: Handler = async (ctx) => {
  const { req, registry, settings, name, param } = ctx;
  assertWritable(settings);
  const range = parseContentRange(req.headers['content-range']);
  const options = range ? { start: range.start, length: range.end - range.start + 1 } : lengthOption(ctx);
  const size = await withUploadState(ctx, () => {
    if (range && declaredLength(req) !== undefined && declaredLength(req) !== options.length) {
      throw new RegistryError('SIZE_INVALID', { contentRange: req.headers['content-range'], contentLength: declaredLength(req) }, { status: 416 });
    }
    return registry.uploads.append(name, param, requestBody(req), options);
  });
  uploadAccepted(ctx, param, size);
};

export const putUpload: Handler = async (ctx) => {
  const { req, registry, settings, name, param } = ctx;
  assertWritable(settings);
  const digest = requireDigest(query(req, 'digest'));
  const range = parseContentRange(req.headers['content-range']);
  const body = hasBody(req) ? requestBody(req) : undefined;
  const options = range ? { start: range.start, length: range.end - range.start + 1 } : lengthOption(ctx);
  await withUploadState(ctx, () => registry.uploads.complete(name, param, digest, body, options));
  created(ctx, digest);
};

export const getUpload: Handler = async (ctx) => {
  const size = await ctx.registry.uploads.size(ctx.name, ctx.param);
  uploadState(ctx, ctx.param, size);
  ctx.reply.code(204).send();
};

export const deleteUpload: Handler = async ({ reply, registry, settings, name, param }) => {
  assertWritable(settings);
  await registry.uploads.cancel(name, param);
  reply.code(204).send();
};

function lengthOption(ctx: RouteContext): { length?: number } {
  const length = declaredLength(ctx.req);
  return length === undefined ? {} : { length };
}

/** On a 416, tells the client where the upload really stands (Location and Range). */
async function withUploadState<T>(ctx: RouteContext, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isRegistryError(err) && err.status === 416) {
      const size = await ctx.registry.uploads.size(ctx.name, ctx.param).catch(() => undefined);
      if (size !== undefined) uploadState(ctx, ctx.param, size);
    }
    throw err;
  }
}

function uploadState(ctx: RouteContext, id: string, size: number): void {
  const { req, reply, settings, name } = ctx;
  reply.header('Location', externalUrl(req, settings, `/v2/${name}/blobs/uploads/${id}`));
  reply.header('Range', `0-${size > 0 ? size - 1 : 0}`);
  reply.header('Docker-Upload-UUID', id);
  const minChunk = ctx.registry.uploads.minChunkLength;
  if (minChunk) reply.header('OCI-Chunk-Min-Length', minChunk);
}

function uploadAccepted(ctx: RouteContext, id: string, size: number): void {
  uploadState(ctx, id, size);
  ctx.reply.code(202).header('Content-Length', 0).send();
}

function created({ req, reply, settings, name }: RouteContext, digest: Digest): void {
  reply.header('Location', externalUrl(req, settings, `/v2/${name}/blobs/${digest.value}`));
  reply.header('Docker-Content-Digest', digest.value);
  reply.code(201).header('Content-Length', 0).send();
}
