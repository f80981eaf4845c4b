// Proxied manifests. By digest: immutable, cached forever once fetched. By tag: served from the
// cache within the upstream's TTL; after it, one HEAD asks the upstream for the tag's digest:
// unchanged -> `revalidated`, changed -> fetched again. When the upstream fails (down, timeout,
// 429, breaker open) a cached copy is served as `stale`; with none, the client gets an error
// naming the upstream. The children of an index are fetched when a client asks for them.
import { RegistryError } from '../errors/index.js';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { parseManifest, type ParsedManifest } from '../oci/manifest.js';
import type { Registry } from '../registry/registry.js';
import type { ManifestReference, StoredManifest } from '../registry/manifest-store.js';
import type { FetchedManifest, ManifestHead } from '../client/registry-client.js';
import type { ProxyRoute } from './name-mapping.js';
import type { CacheBook } from './cache-book.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import type { ProxyScope } from './proxy-scope.js';
import { SingleFlight } from './single-flight.js';
import { callUpstream, isNotFound, UpstreamFailure } from './upstream-call.js';

export type CacheOutcome = 'hit' | 'miss' | 'revalidated' | 'stale';

export interface CacheDeps {
  base: Registry;
  book: CacheBook;
  metrics: ProxyMetrics;
  scope: ProxyScope;
  now: () => number;
}

export function markResponse(scope: ProxyScope, outcome: CacheOutcome): void {
  const request = scope.current();
  request?.setHeader('X-Berth-Cache', outcome);
  if (outcome === 'stale') request?.setHeader('Warning', '110 - "Response is Stale"');
}

export class ManifestCache {
  readonly #d: CacheDeps;
  readonly #fetches = new SingleFlight<FetchedManifest>();
  readonly #heads = new SingleFlight<ManifestHead | undefined>();

  constructor(deps: CacheDeps) {
    this.#d = deps;
  }

  async get(route: ProxyRoute, ref: ManifestReference): Promise<StoredManifest> {
    return 'digest' in ref ? this.#byDigest(route, ref.digest) : this.#byTag(route, ref.tag);
  }

  async #byDigest(route: ProxyRoute, digest: Digest): Promise<StoredManifest> {
    const local = await this.#local(route, digest);
    if (local) return this.#served(route, local, 'hit');
    const fetched = await this.#fetch(route, digest.value).catch((err) => {
      throw toClientError(err, { digest: digest.value });
    });
    return this.#served(route, await this.#store(route, fetched), 'miss');
  }

  async #byTag(route: ProxyRoute, tag: string): Promise<StoredManifest> {
    const { base, book, now } = this.#d;
    const u = route.upstream;
    const current = await base.tags.resolve(route.local, tag);
    const local = current ? await this.#local(route, current) : undefined;
    const row = local ? await book.tag(u.name, route.local, tag) : undefined;
    if (local && row?.digest === local.digest.value && now() - row.validatedAt < u.ttlMs) return this.#served(route, local, 'hit');
    if (local) {
      let head: ManifestHead | undefined;
      try {
        head = await this.#heads.run(`${u.name}|${route.remote}|${tag}`, () =>
          callUpstream(u, this.#d.metrics, (signal) => u.client.headManifest(route.remote, tag, signal)));
      } catch (err) {
        if (err instanceof UpstreamFailure) return this.#served(route, local, 'stale');
        throw err;
      }
      if (!head) {
        // Deleted upstream: so it is here.
        await base.tags.untag(route.local, tag, local.digest);
        await book.forgetTag(u.name, route.local, tag);
        throw new RegistryError('MANIFEST_UNKNOWN', { tag });
      }
      if (head.digest === local.digest.value) {
        await book.setTag(u.name, route.local, tag, local.digest.value);
        return this.#served(route, local, 'revalidated');
      }
    }
    let fetched: FetchedManifest;
    try {
      fetched = await this.#fetch(route, tag);
    } catch (err) {
      if (local && err instanceof UpstreamFailure) return this.#served(route, local, 'stale');
      throw toClientError(err, { tag });
    }
    const stored = await this.#store(route, fetched, tag);
    return this.#served(route, stored, 'miss');
  }

  /** Fetches, and with `verify:` judges before anything is stored; waiting clients share both. */
  #fetch(route: ProxyRoute, reference: string): Promise<FetchedManifest> {
    const u = route.upstream;
    return this.#fetches.run(`${u.name}|${route.remote}|${reference}`, async () => {
      const fetched = await callUpstream(u, this.#d.metrics, (signal) => u.client.getManifest(route.remote, reference, signal));
      if (u.admission) {
        await u.admission.admit({
          upstream: u.name, remoteurl: u.remoteurl, client: u.client, remote: route.remote, local: route.local, reference,
          digest: fetched.digest, bytes: fetched.bytes, parsed: parsedOrUndefined(fetched),
        }, (fn) => callUpstream(u, this.#d.metrics, fn));
      }
      return fetched;
    });
  }

  async #local(route: ProxyRoute, digest: Digest): Promise<StoredManifest | undefined> {
    return this.#d.base.manifests.get(route.local, { digest }).catch((err) => {
      if (err instanceof RegistryError && err.code === 'MANIFEST_UNKNOWN') return undefined;
      throw err;
    });
  }

  /**
   * Stores the manifest through the core's trusted path (listing index included, blobs not
   * required: a cache holds manifests whose layers nobody pulled yet), then its bookkeeping.
   */
  async #store(route: ProxyRoute, fetched: FetchedManifest, tag?: string): Promise<StoredManifest> {
    const { base, book, metrics } = this.#d;
    const digest = tryParseDigest(fetched.digest);
    if (typeof digest === 'string') throw new RegistryError('DIGEST_INVALID', { digest: fetched.digest, upstream: route.upstream.name });
    const stored = await base.manifests.putTrusted(route.local, digest, fetched.bytes, fetched.mediaType, tag);
    if (tag !== undefined) await book.setTag(route.upstream.name, route.local, tag, digest.value);
    await book.cached(route.upstream.name, route.local, digest.value, 'manifest', fetched.bytes.length);
    metrics.upstreamBytes(route.upstream.name, fetched.bytes.length);
    return { digest, content: stored.content, parsed: stored.parsed, mediaType: stored.mediaType };
  }

  #served(route: ProxyRoute, m: StoredManifest, outcome: CacheOutcome): StoredManifest {
    const { book, metrics, scope } = this.#d;
    const u = route.upstream.name;
    route.upstream.admission?.served(route.local, m.digest.value, m.parsed);
    if (outcome === 'miss') metrics.miss(u, 'manifest');
    else metrics.hit(u, 'manifest');
    if (outcome !== 'miss') book.pulled(u, route.local, m.digest.value);
    if (scope.current()?.method !== 'HEAD') metrics.servedBytes(u, m.content.length);
    markResponse(scope, outcome);
    return m;
  }
}

/** The manifest parsed, for the admission check (one the core cannot parse is refused when stored). */
function parsedOrUndefined(fetched: FetchedManifest): ParsedManifest | undefined {
  try {
    return parseManifest(fetched.bytes, fetched.mediaType);
  } catch {
    return undefined;
  }
}

/** An upstream failure as the client's error; the upstream's 404 as the spec's MANIFEST_UNKNOWN. */
export function toClientError(err: unknown, detail: Record<string, string>): unknown {
  if (err instanceof UpstreamFailure) return err.toRegistryError();
  if (isNotFound(err)) return new RegistryError('MANIFEST_UNKNOWN', detail);
  return err;
}
