// One upstream download per (upstream, digest), however many clients wait for it. The bytes go
// through the registry's own upload path (temporary data, digest and size verified while they
// stream, committed only when both match), and at the same time to ONE client (the first to ask
// for the whole blob); everyone else waits for the commit and reads local storage. That client
// never gets the last chunk before the digest is verified, so a lying upstream cannot hand it a
// complete wrong blob. If it disconnects, the download goes on for the others and the cache; if
// it cannot keep up, the download stops waiting for it and it is fed the rest from storage after
// the commit, from where it was. Memory stays constant: no chunk is kept beyond the one held.
import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../errors/index.js';
import type { ProxyRoute } from './name-mapping.js';
import type { CacheDeps } from './manifest-cache.js';
import { callUpstream, classify, UpstreamFailure } from './upstream-call.js';
import type { FillLocks, HeldLock } from './fill-lock.js';

/** How long the streamed copy waits for its client to show up before the download goes on without it. */
const CLAIM_TIMEOUT_MS = 2000;
const LIVE_HIGH_WATER_MARK = 256 * 1024;
/** A streamed-copy client that has not taken a chunk for this long no longer paces the download. */
const LAG_MS = 1000;
/** How often a replica waiting on another's fill looks at the storage and the lock. */
const POLL_MS = 200;

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
  /** Bytes handed to the streamed copy; where it resumes from storage if it lagged. */
  #liveSent = 0;
  #lagging = false;
  /** The cross-replica fill lock, while this replica downloads under it. */
  #held: HeldLock | undefined;

  /** With `locks`, downloads only under the replicas' fill lock, or waits for the replica holding it. */
  constructor(deps: CacheDeps, route: ProxyRoute, digest: Digest, wantLive: boolean, locks?: FillLocks) {
    this.#deps = deps;
    this.route = route;
    this.digest = digest;
    const u = route.upstream;
    const turn = locks ? this.#turn(locks) : Promise.resolve<'fetch' | 'stored'>('fetch');
    const response = turn.then((t) => (t === 'stored' ? undefined
      : callUpstream(u, deps.metrics, () => u.client.getBlob(route.remote, digest.value, { verify: false }), false)));
    this.started = response.then(async (r) => {
      this.size = r ? r.size : await deps.base.blobs.size(digest);
    });
    this.done = response.then(async (r) => {
      if (!r) return this.#adoptStored();
      if (wantLive && r.size !== undefined) this.#openLive();
      return this.#pump(r.stream, r.size);
    }).finally(() => this.#held?.release());
    // Awaited by whoever joins; these keep an unjoined failure from being an unhandled rejection.
    this.started.catch(() => undefined);
    this.done.catch(() => undefined);
  }

  /**
   * Whether to download here (`fetch`, holding the lock or with Redis away) or not at all
   * (`stored`: another replica committed it). While another replica holds the lock this polls;
   * a holder that dies stops renewing, so within one upstream timeout the lock is free again.
   */
  async #turn(locks: FillLocks): Promise<'fetch' | 'stored'> {
    const u = this.route.upstream;
    const stored = async () => (await this.#deps.base.blobs.size(this.digest)) !== undefined;
    for (;;) {
      const attempt = await locks.take(u.name, this.digest.value, Math.max(1000, u.timeoutMs));
      if (attempt === 'unavailable') return 'fetch';
      if (attempt !== 'held') {
        // The previous holder may have committed between our last look and the take.
        if (await stored()) {
          await attempt.release();
          return 'stored';
        }
        this.#held = attempt;
        return 'fetch';
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (await stored()) return 'stored';
    }
  }

  /** Another replica's fill: linked into this repository as if this one had committed it. */
  async #adoptStored(): Promise<void> {
    const { base, book } = this.#deps;
    await base.blobs.link(this.route.local, this.digest);
    this.committed = true;
    await book.cached(this.route.upstream.name, this.route.local, this.digest.value, 'blob', this.size ?? 0);
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
    if (!live || live.destroyed || this.#lagging) return;
    this.#liveSent += chunk.length;
    if (live.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#lagging = true;
        wake();
      }, LAG_MS);
      const wake = () => {
        clearTimeout(timer);
        live.off('drain', wake);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = wake;
      live.once('drain', wake);
    });
  }

  /** After the commit: the streamed copy's client gets what it is still missing, or the held last chunk. */
  async #finishLive(held: Buffer | undefined): Promise<void> {
    const live = this.#live;
    this.#live = undefined;
    if (!live || live.destroyed) return;
    if (!this.#lagging) {
      if (held) live.write(held);
      live.end();
      return;
    }
    const size = (await this.#deps.base.blobs.size(this.digest)) ?? 0;
    if (this.#liveSent >= size) {
      live.end();
      return;
    }
    const rest = await this.#deps.base.blobs.open(this.route.local, this.digest, { start: this.#liveSent, end: size - 1 });
    pipeline(rest, live, () => undefined);
  }

  async #pump(stream: Readable, size: number | undefined): Promise<void> {
    const { base, metrics, book } = this.#deps;
    const u = this.route.upstream;
    const local = this.route.local;
    const id = await base.uploads.start(local).catch((err: unknown) => {
      stream.destroy();
      throw err;
    });
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
    const live = this.#live;
    await this.#finishLive(held).catch((err: Error) => live?.destroy(err));
  }
}

/** What a failed download means: storage errors stay what they are; the rest is the upstream's. */
function bodyFailure(route: ProxyRoute, err: unknown): unknown {
  if (err instanceof RegistryError && err.code !== 'DIGEST_INVALID' && err.code !== 'SIZE_INVALID') return err;
  return classify(route.upstream, err) ?? err;
}
