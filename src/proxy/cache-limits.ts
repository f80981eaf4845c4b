// The cache limits of one upstream as eviction needs them, read from the resolved `proxy`
// settings: `maxsize` in bytes and `maxage` in ms, 0 meaning none (Distribution's remoteurl
// upstream, "default", has its `ttl` as maxage).

export interface CacheLimits {
  upstream: string;
  /** Bytes; 0 means no size limit. */
  maxBytes: number;
  /** Milliseconds; 0 means no age limit. */
  maxAgeMs: number;
}

interface UpstreamShape {
  name: string;
  maxsize?: number | undefined;
  maxage?: number | undefined;
}

/** Limits of every upstream that has one; upstreams without limits are never evicted from. */
export function cacheLimitsFrom(proxy: { upstreams: UpstreamShape[] }): CacheLimits[] {
  const out: CacheLimits[] = [];
  for (const u of proxy.upstreams) {
    const limits = { upstream: u.name, maxBytes: u.maxsize ?? 0, maxAgeMs: u.maxage ?? 0 };
    if (limits.maxBytes > 0 || limits.maxAgeMs > 0) out.push(limits);
  }
  return out;
}
