// The cache limits of one upstream as eviction needs them, read from the `proxy` config section:
// `maxsize` ("10GiB", "0" = none) and `maxage` (a Go duration, "0" = none).
import { parseDuration } from '../config/duration.js';

export interface CacheLimits {
  upstream: string;
  /** Bytes; 0 means no size limit. */
  maxBytes: number;
  /** Milliseconds; 0 means no age limit. */
  maxAgeMs: number;
}

const UNITS: Record<string, number> = {
  '': 1, B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
};

/** "10GiB" (binary), "1.5GB" (decimal), "1048576" (bytes), "0" (none). */
export function parseByteSize(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?$/.exec(text.trim());
  const unit = m ? UNITS[m[2] ?? ''] : undefined;
  if (!m || unit === undefined) throw new Error(`invalid size "${text}" (examples: 10GiB, 512MiB, 1.5GB, 1048576)`);
  return Math.floor(Number(m[1]) * unit);
}

interface UpstreamShape {
  name: string;
  maxsize?: string | number | undefined;
  maxage?: string | undefined;
}

/** Limits of every upstream that has one; upstreams without limits are never evicted from. */
export function cacheLimitsFrom(proxy: { upstreams?: UpstreamShape[] | undefined }): CacheLimits[] {
  const out: CacheLimits[] = [];
  for (const u of proxy.upstreams ?? []) {
    const limits = { upstream: u.name, maxBytes: parseByteSize(u.maxsize ?? '0'), maxAgeMs: parseDuration(u.maxage ?? '0') };
    if (limits.maxBytes > 0 || limits.maxAgeMs > 0) out.push(limits);
  }
  return out;
}
