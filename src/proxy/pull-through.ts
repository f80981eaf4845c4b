// The pull-through cache as a decorator over the registry core (as events/registry-listener.ts
// decorates it): reads of proxied repositories go to ManifestCache / BlobCache, tag lists and
// referrers are asked of the upstream (the cached answer when it fails), writes into proxied
// repositories are refused, and every other repository is served by the core untouched.
import type { Registry } from '../registry/registry.js';
import type { BlobStore } from '../registry/blob-store.js';
import type { ManifestStore } from '../registry/manifest-store.js';
import type { TagStore } from '../registry/tag-store.js';
import type { UploadService } from '../registry/upload-service.js';
import { RegistryError } from '../errors/index.js';
import { paginate } from '../registry/listing-index.js';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { NameMapper, type ProxyRoute } from './name-mapping.js';
import type { Upstream } from './upstreams.js';
import { NO_REQUEST, type ProxyScope } from './proxy-scope.js';
import { CacheBook } from './cache-book.js';
import { NO_PROXY_METRICS, type ProxyMetrics } from './proxy-metrics.js';
import { UpstreamCounters, bothMetrics } from './upstream-counters.js';
import { ManifestCache } from './manifest-cache.js';
import { BlobCache } from './blob-cache.js';
import type { FillLocks } from './fill-lock.js';
import { callUpstream, isNotFound, UpstreamFailure } from './upstream-call.js';
import { markResponse } from './manifest-cache.js';
import { decorate } from '../registry/decorate.js';

export interface PullThroughOptions {
  upstreams: Upstream[];
  db: Kysely<MetaTables>;
  metrics?: ProxyMetrics;
  scope?: ProxyScope;
  now?: () => number;
  onError?: (err: unknown) => void;
  /** Blob fills shared across replicas (Redis); without, single-flight within this process. */
  fillLocks?: FillLocks;
}

export interface PullThrough {
  /** The decorated registry: what the HTTP layer serves. */
  registry: Registry;
  /** The undecorated core: eviction deletes through it (the decorated one refuses writes to caches). */
  base: Registry;
  scope: ProxyScope;
  mapper: NameMapper;
  /** The metadata database holding the bookkeeping rows. */
  db: Kysely<MetaTables>;
  upstreams: Upstream[];
  close(): Promise<void>;
}

export function withPullThrough(base: Registry, options: PullThroughOptions): PullThrough {
  const scope = options.scope ?? NO_REQUEST;
  // Counted for the read API as well as for Prometheus.
  const counters = new UpstreamCounters(options.db, options.onError);
  const metrics = bothMetrics(options.metrics ?? NO_PROXY_METRICS, counters);
  const book = new CacheBook(options.db, { ...(options.now ? { now: options.now } : {}), ...(options.onError ? { onError: options.onError } : {}) });
  const deps = { base, book, metrics, scope, now: options.now ?? Date.now };
  const mapper = new NameMapper(options.upstreams, (name) => base.catalog.has(name));
  const manifestCache = new ManifestCache(deps);
  const blobCache = new BlobCache(deps, options.fillLocks);
  const ns = () => scope.current()?.ns;
  const route = (name: string) => mapper.route(name, ns());
  const refuseWrite = (name: string) => {
    const owner = mapper.owner(name, ns());
    if (!owner) return;
    throw new RegistryError('UNSUPPORTED', { repository: name, upstream: owner.upstream.name }, {
      message: `repository ${name} is a pull-through cache of ${owner.upstream.remoteurl} (upstream "${owner.upstream.name}"): pushes and deletes are refused`,
    });
  };

  const blobs = decorate<BlobStore>(base.blobs, {
    async sizeIn(name, digest) {
      const r = await route(name);
      return r ? blobCache.sizeIn(r, digest) : base.blobs.sizeIn(name, digest);
    },
    async open(name, digest, range, signal, size) {
      const r = await route(name);
      return r ? blobCache.open(r, digest, range, signal) : base.blobs.open(name, digest, range, signal, size);
    },
    async isLinked(name, digest) {
      const r = await route(name);
      return base.blobs.isLinked(r ? r.local : name, digest);
    },
    async link(name, digest, pushed) {
      refuseWrite(name);
      return base.blobs.link(name, digest, pushed);
    },
    async unlink(name, digest) {
      refuseWrite(name);
      return base.blobs.unlink(name, digest);
    },
  });

  const manifests = decorate<ManifestStore>(base.manifests, {
    async get(name, ref) {
      const r = await route(name);
      return r ? manifestCache.get(r, ref) : base.manifests.get(name, ref);
    },
    async put(name, ref, content, contentType) {
      refuseWrite(name);
      return base.manifests.put(name, ref, content, contentType);
    },
    async delete(name, ref) {
      refuseWrite(name);
      return base.manifests.delete(name, ref);
    },
    async referrers(name, subject, artifactType) {
      const r = await route(name);
      if (!r) return base.manifests.referrers(name, subject, artifactType);
      return upstreamOr(r, { metrics, scope }, (signal) => r.upstream.client.referrers(r.remote, subject.value, artifactType, signal),
        () => base.manifests.referrers(r.local, subject, artifactType));
    },
  });

  // Every page of the upstream's list within one upstream timeout, and no further once the client left.
  const upstreamTags = (r: ProxyRoute, client?: AbortSignal) => upstreamOr(r, { metrics, scope },
    async (signal) => [...new Set(await r.upstream.client.listTags(r.remote, undefined, { signal }))].sort(),
    () => base.tags.list(r.local), () => base.tags.list(r.local), true, client);
  const tags = decorate<TagStore>(base.tags, {
    async list(name) {
      const r = await route(name);
      return r ? upstreamTags(r) : base.tags.list(name);
    },
    // tags/list pages; a proxied repository's tags are the upstream's, paged here.
    async page(name, request, signal) {
      const r = await route(name);
      if (!r) return base.tags.page(name, request, signal);
      const names = await upstreamTags(r, signal);
      return names === undefined ? undefined : paginate(names, request);
    },
  });

  const uploads = decorate<UploadService>(base.uploads, {
    async start(name) {
      refuseWrite(name);
      return base.uploads.start(name);
    },
  });

  const registry = { blobs, uploads, tags, referrers: base.referrers, manifests, catalog: base.catalog, maintenance: base.maintenance } satisfies Registry as Registry;
  return {
    registry, base, scope, mapper, db: options.db, upstreams: options.upstreams,
    async close() {
      await Promise.all(options.upstreams.map((u) => u.client.close().catch(() => undefined)));
      await counters.flush();
    },
  };
}

/**
 * Asks the upstream (tag lists, referrers: they change, so they are not cached by themselves);
 * when it fails, the answer from what is cached here. A 404 upstream is `onMissing`.
 */
async function upstreamOr<T>(
  r: ProxyRoute, { metrics, scope }: { metrics: ProxyMetrics; scope: ProxyScope }, ask: (signal: AbortSignal) => Promise<T>, cached: () => Promise<T>,
  onMissing?: () => Promise<T>, failWhenNothingCached = false, client?: AbortSignal,
): Promise<T> {
  try {
    return await callUpstream(r.upstream, metrics, ask, true, client);
  } catch (err) {
    if (client?.aborted) throw err;
    if (onMissing && isNotFound(err)) return onMissing();
    const fallback = await cached();
    // Nothing cached either: the client learns the upstream failed, not that the name is unknown.
    if (fallback === undefined && failWhenNothingCached && err instanceof UpstreamFailure) throw err.toRegistryError();
    if (fallback !== undefined) markResponse(scope, 'stale');
    return fallback;
  }
}

