// Every request to an upstream goes through here: the circuit breaker decides whether it goes
// out at all, the outcome feeds the breaker, and failures become an UpstreamFailure with a
// reason (for metrics, the stale decision, and the client's error message). A 404 is an answer,
// not a failure: it is passed on as the client's RegistryResponseError. What the upstream said
// (an error body, a redirect target, a network error naming an address) goes to the log only:
// the client learns which upstream failed and how (status, timeout), never its words, which may
// be an internal page it was sent to.
import { RegistryError } from '../errors/index.js';
import { AuthError } from '../client/auth.js';
import { DigestMismatchError, ListingLimitError, RegistryResponseError } from '../client/errors.js';
import { ForbiddenTargetError } from '../client/host-policy.js';
import type { Upstream } from './upstreams.js';
import type { ProxyMetrics } from './proxy-metrics.js';

export type FailureReason = 'timeout' | 'unreachable' | 'status' | 'ratelimited' | 'auth' | 'digest' | 'breaker_open' | 'forbidden_target';

/** Longest upstream detail (error body, network message) kept for the log. */
const MAX_DETAIL = 500;

export class UpstreamFailure extends Error {
  readonly upstream: Upstream;
  readonly reason: FailureReason;
  /** The upstream's HTTP status, when it answered one. */
  readonly status: number | undefined;
  /** What the client is told: the upstream, the reason and the status, nothing the upstream wrote. */
  readonly clientMessage: string;
  constructor(upstream: Upstream, reason: FailureReason, detail: string, cause?: unknown, status?: number) {
    const head = `upstream "${upstream.name}" (${upstream.remoteurl}) ${describe(reason)}${status !== undefined ? ` (HTTP ${status})` : ''}`;
    super(`${head}: ${detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}...` : detail}`, { cause });
    this.name = 'UpstreamFailure';
    this.upstream = upstream;
    this.reason = reason;
    this.status = status;
    this.clientMessage = head;
  }

  /** What the client sees when there is no cached copy to fall back on. */
  toRegistryError(): RegistryError {
    const open = this.reason === 'breaker_open';
    const headers: Record<string, string> = open ? { 'Retry-After': String(Math.max(1, Math.ceil(this.upstream.breaker.retryAfterMs / 1000))) } : {};
    const detail = { upstream: this.upstream.name, reason: this.reason, ...(this.status !== undefined ? { status: this.status } : {}) };
    return new RegistryError('UNAVAILABLE', detail, { status: open ? 503 : 502, headers, message: this.clientMessage, cause: this });
  }
}

function describe(reason: FailureReason): string {
  switch (reason) {
    case 'timeout': return 'did not answer in time';
    case 'unreachable': return 'is unreachable';
    case 'status': return 'failed';
    case 'ratelimited': return 'is rate limiting (429)';
    case 'auth': return 'refused the configured credentials';
    case 'digest': return 'sent content that does not match its digest';
    case 'breaker_open': return 'is failing; requests are paused (circuit breaker open)';
    case 'forbidden_target': return 'sent Berth to a host it may not reach (redirect, Link or token realm)';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof RegistryResponseError && err.status === 404;
}

/**
 * Runs one upstream request under the breaker; `fn` gets a signal bounded by the upstream's
 * timeout (for the whole of it, every page of a listing included) and aborted when `client`
 * (the request being served) aborts: work nobody waits for stops.
 */
export async function callUpstream<T>(u: Upstream, metrics: ProxyMetrics, fn: (signal: AbortSignal) => Promise<T>, bounded = true, client?: AbortSignal): Promise<T> {
  if (!u.breaker.tryAcquire()) {
    metrics.upstreamError(u.name, 'breaker_open');
    throw new UpstreamFailure(u, 'breaker_open', `retry in ${Math.ceil(u.breaker.retryAfterMs / 1000)} s`);
  }
  const timeout = bounded ? AbortSignal.timeout(u.timeoutMs) : new AbortController().signal;
  const signal = client ? AbortSignal.any([timeout, client]) : timeout;
  try {
    const result = await fn(signal);
    u.breaker.succeeded();
    return result;
  } catch (err) {
    if (client?.aborted && !timeout.aborted) {
      // The client left: says nothing about the upstream.
      u.breaker.released();
      throw err;
    }
    const failure = classify(u, err, timeout);
    if (!failure) {
      u.breaker.succeeded();
      throw err;
    }
    if (failure.reason === 'auth' || failure.reason === 'digest' || failure.reason === 'forbidden_target') u.breaker.succeeded();
    else u.breaker.failed();
    metrics.upstreamError(u.name, failure.reason);
    u.log.warn({ upstream: u.name, reason: failure.reason, status: failure.status, err: failure.message }, 'pull-through cache: upstream request failed');
    throw failure;
  }
}

/** The failure an error means, or undefined for an answer the caller handles (404). */
export function classify(u: Upstream, err: unknown, signal?: AbortSignal): UpstreamFailure | undefined {
  if (err instanceof UpstreamFailure) return err;
  if (err instanceof RegistryResponseError) {
    if (err.status === 404) return undefined;
    if (err.status === 429) return new UpstreamFailure(u, 'ratelimited', err.message, err, err.status);
    if (err.status === 401 || err.status === 403) return new UpstreamFailure(u, 'auth', err.message, err, err.status);
    return new UpstreamFailure(u, 'status', err.message, err, err.status);
  }
  if (err instanceof ForbiddenTargetError || (err as { cause?: unknown })?.cause instanceof ForbiddenTargetError) {
    return new UpstreamFailure(u, 'forbidden_target', (err as Error).message, err);
  }
  if (err instanceof ListingLimitError) return new UpstreamFailure(u, 'status', err.message, err);
  if (err instanceof AuthError) return new UpstreamFailure(u, 'auth', err.message, err);
  if (err instanceof DigestMismatchError) return new UpstreamFailure(u, 'digest', err.message, err);
  if (err instanceof RegistryError && (err.code === 'DIGEST_INVALID' || err.code === 'SIZE_INVALID')) {
    return new UpstreamFailure(u, 'digest', err.message, err);
  }
  const code = String((err as { code?: unknown })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code ?? '');
  const timedOut = signal?.aborted || /TIMEOUT|ETIMEDOUT/.test(code) || (err as Error)?.name === 'TimeoutError';
  const message = (err as Error)?.message ?? String(err);
  return new UpstreamFailure(u, timedOut ? 'timeout' : 'unreachable', `${message}${code ? ` (${code})` : ''}`, err);
}
