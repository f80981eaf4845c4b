// Listings: tags of a repository, the catalog, and the referrers of a manifest.
import { RegistryError } from '../../errors/index.js';
import { paginate } from '../../registry/catalog.js';
import { MediaType } from '../../oci/media-types.js';
import type { Handler, RouteContext } from '../context.js';
import { nextLink } from '../urls.js';
import { clientGone, pageParams, query, requireDigest } from '../request-input.js';

export const listTags: Handler = async (ctx) => {
  const { req, reply, registry, name } = ctx;
  const { n, last } = pageParams(req);
  const page = await registry.tags.page(name, { n, last }, clientGone(reply));
  if (page === undefined) throw new RegistryError('NAME_UNKNOWN', { name });
  sendPage(ctx, `/v2/${name}/tags/list`, n, page, { name, tags: page.items });
};

export const catalog: Handler = async (ctx) => {
  const { req, registry, settings } = ctx;
  const { n, last } = pageParams(req, settings.catalogMaxEntries);
  // With access control the caller's view is filtered first, so it is paged here; otherwise the
  // index pages (in SQL, for the metadata index) and only one page is read.
  const page = ctx.visible ? paginate(await ctx.visible(await registry.catalog.names()), { n, last }) : await registry.catalog.page({ n, last });
  sendPage(ctx, '/v2/_catalog', n, page, { repositories: page.items });
};

function sendPage(
  { reply, settings }: RouteContext, path: string, n: number | undefined,
  page: { items: string[]; more: boolean }, body: object,
): void {
  const lastItem = page.items[page.items.length - 1];
  if (page.more && n !== undefined && lastItem !== undefined) reply.header('Link', nextLink(settings, path, n, lastItem));
  reply.code(200).type('application/json').send(JSON.stringify(body));
}

export const listReferrers: Handler = async ({ req, reply, registry, name, param }) => {
  const subject = requireDigest(param);
  const artifactType = query(req, 'artifactType');
  const manifests = await registry.manifests.referrers(name, subject, artifactType);
  if (artifactType !== undefined) reply.header('OCI-Filters-Applied', 'artifactType');
  // A Buffer, so that Fastify does not append `; charset=utf-8` to the media type.
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  reply.code(200).header('Content-Type', MediaType.ociIndex).send(body);
};
