// Cache-Control of registry answers, for the caches operators put in front (nginx proxy_cache,
// CDNs): content by digest never changes, but an answer given to credentials must not be handed
// to someone else by a shared cache, and a tag may move at any moment, so it is revalidated
// (its ETag makes that a cheap 304).

/** Content addressed by digest: kept for a year; by shared caches only when no credentials were needed. */
export function byDigest(shared: boolean): string {
  return `${shared ? 'public' : 'private'}, max-age=31536000, immutable`;
}

/** A manifest read by tag: always revalidated. */
export function byTag(shared: boolean): string {
  return shared ? 'no-cache' : 'private, no-cache';
}
