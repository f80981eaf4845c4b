// Every request to an upstream goes through here: the circuit breaker decides whether it goes
// out at all, the outcome feeds the breaker, and failures become an UpstreamFailure with a
// reason (for metrics, the stale decision, and the client's error message). A 404 is an answer,
// not a failure: it is passed on as the client's RegistryResponseError.
import { RegistryError } from '../errors/index.js';
import { AuthError } from '../client/auth.js';
import { DigestMismatchError, RegistryResponseError } from '../client/errors.js';
import type { Upstream } from './upstreams.js';
import type { ProxyMetrics } from './proxy-metrics.js';

export type FailureReason = 'timeout' | 'unreachable' | 'status' | 'ratelimited' | 'auth' | 'digest' | 'breaker_open';

export class UpstreamFailure extends Error {
  readonly upstream: Upstream;
  readonly reason: FailureReason;
  constructor(upstream: Upstream, reason: FailureReason, detail: string, cause?: unknown) {
    super(`upstream "${upstream.name}" (${upstream.remoteurl}) ${describe(reason)}: ${detail}`, { cause });
    this.name = 'UpstreamFailure';
    this.upstream = upstream;
    this.reason = reason;
  }

  /** What the client sees when there is no cached copy to fall back on. */
  toRegistryError(): RegistryError {
    const open = this.reason === 'breaker_open';
    const headers: Record<string, string> = open ? { 'Retry-After': String(Math.max(1, Math.ceil(this.upstream.breaker.retryAfterMs / 1000))) } : {};
    return new RegistryError('UNAVAILABLE', { upstream: this.upstream.name, reason: this.reason }, {
      status: open ? 503 : 502, headers, message: this.message, cause: this,
    });
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
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof RegistryResponseError && err.status === 404;
}

/** Runs one upstream request under the breaker; `fn` gets a signal bounded by the upstream's timeout. */
export async function callUpstream<T>(u: Upstream, metrics: ProxyMetrics, fn: (signal: AbortSignal) => Promise<T>, bounded = true): Promise<T> {
  if (!u.breaker.tryAcquire()) {
    metrics.upstreamError(u.name, 'breaker_open');
    throw new UpstreamFailure(u, 'breaker_open', `retry in ${Math.ceil(u.breaker.retryAfterMs / 1000)} s`);
  }
  const signal = bounded ? AbortSignal.timeout(u.timeoutMs) : new AbortController().signal;
  try {
    const result = await fn(signal);
    u.breaker.succeeded();
    return result;
  } catch (err) {
    const failure = classify(u, err, signal);
    if (!failure) {
      u.breaker.succeeded();
      throw err;
    }
    if (failure.reason === 'auth' || failure.reason === 'digest') u.breaker.succeeded();
    else u.breaker.failed();
    metrics.upstreamError(u.name, failure.reason);
    throw failure;
  }
}

/** The failure an error means, or undefined for an answer the caller handles (404). */
export function classify(u: Upstream, err: unknown, signal?: AbortSignal): UpstreamFailure | undefined {
  if (err instanceof UpstreamFailure) return err;
  if (err instanceof RegistryResponseError) {
    if (err.status === 404) return undefined;
    if (err.status === 429) return new UpstreamFailure(u, 'ratelimited', err.message, err);
    if (err.status === 401 || err.status === 403) return new UpstreamFailure(u, 'auth', err.message, err);
    return new UpstreamFailure(u, 'status', err.message, err);
  }
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
