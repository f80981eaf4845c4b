// One upstream download per (upstream, digest), however many clients wait for it. The bytes go
// through the registry's own upload path (temporary data, digest and size verified while they
// stream, committed only when both match), and at the same time to ONE client (the first to ask
// for the whole blob), whose speed paces the download; everyone else waits for the commit and
// reads local storage. That client never gets the last chunk before the digest is verified, so
// a lying upstream cannot hand it a complete wrong blob. If it disconnects, the download goes
// on for the others and the cache. Memory stays constant: no chunk is kept beyond the one held.
import { PassThrough, type Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../errors/index.js';
import type { ProxyRoute } from './name-mapping.js';
import type { CacheDeps } from './manifest-cache.js';
import { callUpstream, classify, UpstreamFailure } from './upstream-call.js';

/** How long the streamed copy waits for its client to show up before the download goes on without it. */
const CLAIM_TIMEOUT_MS = 2000;
const LIVE_HIGH_WATER_MARK = 256 * 1024;

export class BlobFlight {
  readonly route: ProxyRoute;
  readonly digest: Digest;
  /** Content-Length the upstream announced, once `started` resolved. */
  size: number | undefined;
  /** Resolves when the upstream answered (rejects with its failure or 404). */
  readonly started: Promise<void>;
  /** Resolves once the blob is committed to storage. */
  readonly done: Promise<void>;
  committed = false;
  readonly #deps: CacheDeps;
  #live: PassThrough | undefined;
  #claimed = false;
  #claimTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(deps: CacheDeps, route: ProxyRoute, digest: Digest, wantLive: boolean) {
    this.#deps = deps;
    this.route = route;
    this.digest = digest;
    const u = route.upstream;
    const response = callUpstream(u, deps.metrics, () => u.client.getBlob(route.remote, digest.value, { verify: false }), false);
    this.started = response.then(({ size }) => {
      this.size = size;
    });
    this.done = response.then(({ stream, size }) => {
      if (wantLive && size !== undefined) this.#openLive();
      return this.#pump(stream, size);
    });
    // Awaited by whoever joins; these keep an unjoined failure from being an unhandled rejection.
    this.started.catch(() => undefined);
    this.done.catch(() => undefined);
  }

  /** The streamed copy, to the first caller only; undefined once taken or gone. */
  claimLive(): Readable | undefined {
    if (!this.#live || this.#claimed) return undefined;
    this.#claimed = true;
    clearTimeout(this.#claimTimer);
    return this.#live;
  }

  /** Lets the download run on without waiting for a streamed-copy client (one that waits for the commit instead). */
  releaseLive(): void {
    if (!this.#claimed) this.#detach();
  }

  #openLive(): void {
    const live = new PassThrough({ highWaterMark: LIVE_HIGH_WATER_MARK });
    // Errors reach the client through Fastify's pipe; without one attached they must not crash us.
    live.on('error', () => undefined);
    live.on('close', () => this.#detach());
    this.#live = live;
    this.#claimTimer = setTimeout(() => this.#detach(), CLAIM_TIMEOUT_MS);
    this.#claimTimer.unref();
  }

  #detach(): void {
    const live = this.#live;
    this.#live = undefined;
    clearTimeout(this.#claimTimer);
    if (live && !live.destroyed && !this.#claimed) live.destroy();
    this.#wake?.();
  }

  async #toLive(chunk: Buffer): Promise<void> {
    const live = this.#live;
    if (!live || live.destroyed) return;
    if (live.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        live.off('drain', wake);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = wake;
      live.once('drain', wake);
    });
  }

  async #pump(stream: Readable, size: number | undefined): Promise<void> {
    const { base, metrics, book } = this.#deps;
    const u = this.route.upstream;
    const local = this.route.local;
    const id = await base.uploads.start(local);
    let held: Buffer | undefined;
    const tee = async function* (this: BlobFlight): AsyncGenerator<Buffer> {
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        metrics.upstreamBytes(u.name, buf.length);
        if (held) await this.#toLive(held);
        held = buf;
        yield buf;
      }
    }.call(this);
    try {
      await base.uploads.complete(local, id, this.digest, tee, size !== undefined ? { length: size } : {});
    } catch (err) {
      stream.destroy();
      await base.uploads.cancel(local, id).catch(() => undefined);
      const failure = bodyFailure(this.route, err);
      if (failure instanceof UpstreamFailure) {
        metrics.upstreamError(u.name, failure.reason);
        if (failure.reason !== 'digest') u.breaker.failed();
      }
      this.#live?.destroy(failure instanceof Error ? failure : new Error(String(failure)));
      throw failure;
    }
    this.committed = true;
    await book.cached(u.name, local, this.digest.value, 'blob', size ?? (await base.blobs.size(this.digest)) ?? 0);
    if (held) await this.#toLive(held);
    this.#live?.end();
    this.#live = undefined;
  }
}

/** What a failed download means: storage errors stay what they are; the rest is the upstream's. */
function bodyFailure(route: ProxyRoute, err: unknown): unknown {
  if (err instanceof RegistryError && err.code !== 'DIGEST_INVALID' && err.code !== 'SIZE_INVALID') return err;
  return classify(route.upstream, err) ?? err;
}
