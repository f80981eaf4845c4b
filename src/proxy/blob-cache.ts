// Proxied blobs. Cached: served from storage (`hit`). Uncached: a HEAD asks the upstream's HEAD
// (no download); a GET joins the one download of that digest (blob-flight.ts) and is either its
// streamed copy or served from storage after the commit. A blob already stored for another
// repository is linked in after the upstream confirms (HEAD) that this repository has it, so
// nobody reads another repository's content through the cache. A Range request on a miss waits
// for the whole blob to be cached, then gets its range from storage.
import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../errors/index.js';
import type { ByteRange } from '../registry/blob-store.js';
import type { ProxyRoute } from './name-mapping.js';
import { markResponse, type CacheDeps } from './manifest-cache.js';
import { BlobFlight } from './blob-flight.js';
import type { FillLocks } from './fill-lock.js';
import { callUpstream, isNotFound, UpstreamFailure } from './upstream-call.js';

export class BlobCache {
  readonly #d: CacheDeps;
  readonly #flights = new Map<string, BlobFlight>();
  readonly #locks: FillLocks | undefined;

  /** `locks`: the replicas share one download per blob (Redis); without, one per process. */
  constructor(deps: CacheDeps, locks?: FillLocks) {
    this.#d = deps;
    this.#locks = locks;
  }

  async sizeIn(route: ProxyRoute, digest: Digest): Promise<number> {
    const { base, scope, metrics, book } = this.#d;
    const u = route.upstream.name;
    const local = await base.blobs.sizeIn(route.local, digest).catch(orUnknown);
    if (local !== undefined && !this.#flight(route, digest)) {
      metrics.hit(u, 'blob');
      book.pulled(u, route.local, digest.value);
      markResponse(scope, 'hit');
      return local;
    }
    if (scope.current()?.method === 'HEAD' || (await base.blobs.size(digest)) !== undefined) {
      const size = await this.#upstreamHead(route, digest);
      if ((await base.blobs.size(digest)) !== undefined) {
        await this.#adopt(route, digest);
        metrics.hit(u, 'blob');
        markResponse(scope, 'hit');
        return (await base.blobs.size(digest)) ?? size;
      }
      markResponse(scope, 'miss');
      return size;
    }
    metrics.miss(u, 'blob');
    markResponse(scope, 'miss');
    // With storage redirects the client is sent to storage, so the blob must be there first.
    const redirects = base.blobs.redirecting;
    const flight = await this.#join(route, digest, !redirects);
    if (flight.size !== undefined && !redirects) return flight.size;
    await this.#wait(flight);
    return base.blobs.sizeIn(route.local, digest);
  }

  async open(route: ProxyRoute, digest: Digest, range: ByteRange | undefined, signal: AbortSignal | undefined): Promise<Readable> {
    const { base, metrics } = this.#d;
    let flight = this.#flight(route, digest);
    // Nothing here and no download running (the one sizeIn joined failed since, or no sizeIn at all): start one.
    if (!flight && !(await base.blobs.isLinked(route.local, digest)) && (await base.blobs.size(digest)) === undefined) {
      flight = await this.#join(route, digest, false);
    }
    if (flight && !flight.committed) {
      const live = range ? undefined : flight.claimLive();
      if (live) {
        if (flight.size !== undefined) metrics.servedBytes(route.upstream.name, flight.size);
        return live;
      }
      // A Range request on a miss is most likely the download's own starter: do not let the
      // download wait for it to claim the streamed copy.
      if (range) flight.releaseLive();
      await this.#wait(flight);
    }
    if (!(await base.blobs.isLinked(route.local, digest))) await this.#adopt(route, digest);
    const size = range ? range.end - range.start + 1 : (await base.blobs.size(digest)) ?? 0;
    metrics.servedBytes(route.upstream.name, size);
    return base.blobs.open(route.local, digest, range, signal);
  }

  #flight(route: ProxyRoute, digest: Digest): BlobFlight | undefined {
    return this.#flights.get(`${route.upstream.name}|${digest.value}`);
  }

  async #join(route: ProxyRoute, digest: Digest, live: boolean): Promise<BlobFlight> {
    const key = `${route.upstream.name}|${digest.value}`;
    let flight = this.#flights.get(key);
    if (!flight) {
      const created = new BlobFlight(this.#d, route, digest, live, this.#locks);
      this.#flights.set(key, created);
      const forget = () => {
        if (this.#flights.get(key) === created) this.#flights.delete(key);
      };
      created.done.then(forget, forget);
      flight = created;
    }
    try {
      await flight.started;
    } catch (err) {
      throw blobError(err, digest);
    }
    return flight;
  }

  async #wait(flight: BlobFlight): Promise<void> {
    try {
      await flight.done;
    } catch (err) {
      throw blobError(err, flight.digest);
    }
  }

  async #upstreamHead(route: ProxyRoute, digest: Digest): Promise<number> {
    const u = route.upstream;
    let size: number | undefined;
    try {
      size = await callUpstream(u, this.#d.metrics, (signal) => u.client.headBlob(route.remote, digest.value, signal));
    } catch (err) {
      throw blobError(err, digest);
    }
    if (size === undefined || Number.isNaN(size)) throw new RegistryError('BLOB_UNKNOWN', { digest: digest.value });
    return size;
  }

  /** Links content another repository (or another flight's repository) brought in. */
  async #adopt(route: ProxyRoute, digest: Digest): Promise<void> {
    const { base, book } = this.#d;
    const size = await base.blobs.size(digest);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', { digest: digest.value });
    await base.blobs.link(route.local, digest);
    await book.cached(route.upstream.name, route.local, digest.value, 'blob', size);
  }
}

function orUnknown(err: unknown): undefined {
  if (err instanceof RegistryError && err.code === 'BLOB_UNKNOWN') return undefined;
  throw err;
}

function blobError(err: unknown, digest: Digest): unknown {
  if (err instanceof UpstreamFailure) return err.toRegistryError();
  if (isNotFound(err)) return new RegistryError('BLOB_UNKNOWN', { digest: digest.value });
  return err;
}
