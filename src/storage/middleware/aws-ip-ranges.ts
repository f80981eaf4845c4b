// AWS's published address ranges (ip-ranges.json), for Distribution's `ipfilteredby`: clients
// inside AWS (or inside given regions) fetch from S3 directly rather than through CloudFront.
// Read from a local file (registries often have no internet) or a URL, refreshed periodically;
// a failed refresh keeps the ranges already loaded.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { BlockList } from 'node:net';
import { addToList, listContains } from './client-address.js';
import { BlockList as NetBlockList } from 'node:net';

interface IpRangesDocument {
  prefixes?: Array<{ ip_prefix?: string; region?: string }>;
  ipv6_prefixes?: Array<{ ipv6_prefix?: string; region?: string }>;
}

export interface AwsIpRangesOptions {
  file?: string | undefined;
  url?: string | undefined;
  /** Only these regions; every range when undefined (ipfilteredby: aws). */
  regions?: readonly string[] | undefined;
  updateMs: number;
  onError?: (err: unknown) => void;
}

export const DEFAULT_IP_RANGES_URL = 'https://ip-ranges.amazonaws.com/ip-ranges.json';

export class AwsIpRanges {
  readonly #o: AwsIpRangesOptions;
  #list: BlockList = new NetBlockList();
  #timer: NodeJS.Timeout | undefined;
  #count = 0;

  constructor(options: AwsIpRangesOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#count;
  }

  async load(): Promise<void> {
    try {
      const text = this.#o.file ? await readFile(this.#o.file, 'utf8') : await fetchText(this.#o.url ?? DEFAULT_IP_RANGES_URL);
      this.#replace(JSON.parse(text) as IpRangesDocument);
    } catch (err) {
      this.#o.onError?.(err);
    }
  }

  #replace(doc: IpRangesDocument): void {
    const regions = this.#o.regions ? new Set(this.#o.regions) : undefined;
    const list = new NetBlockList();
    let count = 0;
    const entries = [
      ...(doc.prefixes ?? []).map((p) => [p.ip_prefix, p.region] as const),
      ...(doc.ipv6_prefixes ?? []).map((p) => [p.ipv6_prefix, p.region] as const),
    ];
    for (const [cidr, region] of entries) {
      if (!cidr || (regions && !regions.has(region ?? ''))) continue;
      addToList(list, cidr);
      count++;
    }
    this.#list = list;
    this.#count = count;
  }

  /**
   * Loads now, then every updateMs (the timer never keeps the process alive). A local file is
   * read before this returns, so the first request already sees the ranges.
   */
  async start(): Promise<void> {
    if (this.#o.file) {
      try {
        this.#replace(JSON.parse(readFileSync(this.#o.file, 'utf8')) as IpRangesDocument);
      } catch (err) {
        this.#o.onError?.(err);
      }
    } else {
      await this.load();
    }
    if (this.#o.updateMs > 0) {
      this.#timer = setInterval(() => void this.load(), this.#o.updateMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  contains(address: string): boolean {
    return listContains(this.#list, address);
  }
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.text();
}
