// The cache limits of one upstream as eviction needs them, read from the `proxy` config section:
// `maxsize` ("10GiB", "0" = none; size.ts) and `maxage` (a Go duration, "0" = none).
import { parseDuration } from '../config/duration.js';
import { parseByteSize } from './size.js';
import { DEFAULT_UPSTREAM } from './upstreams.js';

export interface CacheLimits {
  upstream: string;
  /** Bytes; 0 means no size limit. */
  maxBytes: number;
  /** Milliseconds; 0 means no age limit. */
  maxAgeMs: number;
}

interface UpstreamShape {
  name: string;
  maxsize?: string | undefined;
  maxage?: string | undefined;
}

/**
 * Limits of every upstream that has one; upstreams without limits are never evicted from.
 * Distribution mode (`remoteurl`) has one upstream, "default", whose `ttl` is its content's lifetime.
 */
export function cacheLimitsFrom(proxy: { remoteurl?: string | undefined; ttl?: string | undefined; upstreams?: UpstreamShape[] | undefined }): CacheLimits[] {
  const out: CacheLimits[] = [];
  const upstreams = proxy.remoteurl !== undefined ? [{ name: DEFAULT_UPSTREAM, maxage: proxy.ttl }] : proxy.upstreams ?? [];
  for (const u of upstreams) {
    const limits = { upstream: u.name, maxBytes: parseByteSize(u.maxsize ?? '0'), maxAgeMs: parseDuration(u.maxage ?? '0') };
    if (limits.maxBytes > 0 || limits.maxAgeMs > 0) out.push(limits);
  }
  return out;
}
