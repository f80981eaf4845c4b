// The pull-through cache's instruments (names from the proxy contract), per upstream. Without
// metrics (`metrics.enabled: false`) every call is a no-op.
import { Counter } from 'prom-client';
import type { MetricsRegistry } from '../metrics/metrics.js';

export type CacheKind = 'manifest' | 'blob';

export interface ProxyMetrics {
  hit(upstream: string, kind: CacheKind): void;
  miss(upstream: string, kind: CacheKind): void;
  upstreamBytes(upstream: string, n: number): void;
  servedBytes(upstream: string, n: number): void;
  upstreamError(upstream: string, reason: string): void;
}

export const NO_PROXY_METRICS: ProxyMetrics = {
  hit: () => undefined, miss: () => undefined, upstreamBytes: () => undefined, servedBytes: () => undefined, upstreamError: () => undefined,
};

export function proxyMetrics(registry: MetricsRegistry): ProxyMetrics {
  const on = { registers: [registry] };
  const hits = new Counter({ ...on, name: 'registry_proxy_hits_total', help: 'Manifests and blobs served from the pull-through cache.', labelNames: ['upstream', 'kind'] as const });
  const misses = new Counter({ ...on, name: 'registry_proxy_misses_total', help: 'Manifests and blobs fetched from an upstream because the cache lacked them (or a tag changed).', labelNames: ['upstream', 'kind'] as const });
  const upstreamBytes = new Counter({ ...on, name: 'registry_proxy_upstream_bytes_total', help: 'Blob bytes read from upstreams.', labelNames: ['upstream'] as const });
  const served = new Counter({ ...on, name: 'registry_proxy_served_bytes_total', help: 'Bytes of proxied manifests and blobs sent to clients.', labelNames: ['upstream'] as const });
  const errors = new Counter({ ...on, name: 'registry_proxy_upstream_errors_total', help: 'Upstream requests that failed, by reason (timeout, unreachable, status, ratelimited, auth, digest, breaker_open, forbidden_target).', labelNames: ['upstream', 'reason'] as const });
  return {
    hit: (upstream, kind) => hits.inc({ upstream, kind }),
    miss: (upstream, kind) => misses.inc({ upstream, kind }),
    upstreamBytes: (upstream, n) => upstreamBytes.inc({ upstream }, n),
    servedBytes: (upstream, n) => served.inc({ upstream }, n),
    upstreamError: (upstream, reason) => errors.inc({ upstream, reason }),
  };
}
