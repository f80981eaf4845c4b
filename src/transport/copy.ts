// The copy engine behind `berth copy`, `save`, `load` and `sync`: walks a manifest tree from a
// source to a destination, moving each blob once (skipped when present, mounted when both ends
// are the same registry, otherwise streamed with digest verification), `jobs` blobs at a time,
// each retried with backoff. Manifests go up only after everything they reference is there,
// so an interrupted copy leaves nothing dangling and a rerun resumes where it stopped.
import { Transform } from 'node:stream';
import { parseManifest, type ParsedManifest } from '../oci/manifest.js';
import { isRetryable } from '../client/index.js';
import type { Descriptor, ImageDestination, ImageSource, ManifestData, RegistryOrigin } from './types.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export type CopyEvent =
  | { type: 'blob'; digest: string; size: number; state: 'start' | 'copied' | 'skipped' | 'mounted' }
  | { type: 'bytes'; digest: string; bytes: number }
  | { type: 'retry'; digest: string; attempt: number; error: string }
  | { type: 'manifest'; digest: string; mediaType: string; tag: string | undefined; state: 'copied' | 'skipped' };

export interface CopyOptions {
  /** 'all' keeps the whole index; a platform narrows it to one image; default: the host's platform. */
  platforms?: 'all' | Platform;
  referrers?: boolean;
  jobs?: number;
  /** Destination tag (or docker-archive name); undefined stores the root by digest. */
  tag?: string | undefined;
  retries?: number;
  backoffMs?: number;
  /** Where a registry source lives, so a destination on the same registry can mount. */
  origin?: RegistryOrigin | undefined;
  onEvent?: (event: CopyEvent) => void;
}

export interface CopyResult {
  digest: string;
  mediaType: string;
  blobsCopied: number;
  blobsSkipped: number;
  blobsMounted: number;
  bytesCopied: number;
  manifests: number;
  referrers: number;
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: ARCH[process.arch] ?? process.arch };
}

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new Error(`platform "${text}" must be os/arch[/variant], e.g. linux/arm64`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** Runs `run` over `items`, `jobs` at a time; stops starting new ones after the first failure, which it throws. */
export async function pool<T>(items: T[], jobs: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length && errors.length === 0) {
      const item = items[next++]!;
      try {
        await run(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  if (errors.length > 0) throw errors[0];
}

/** At most `jobs` of the functions given to it running at once, the rest waiting in order. */
export function limiter(jobs: number): <R>(run: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (run) => {
    if (active >= jobs) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await run();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Copier {
  readonly #src: ImageSource;
  readonly #dst: ImageDestination;
  readonly #o: CopyOptions;
  readonly #result: CopyResult = { digest: '', mediaType: '', blobsCopied: 0, blobsSkipped: 0, blobsMounted: 0, bytesCopied: 0, manifests: 0, referrers: 0 };
  /** Blob digests already handled in this copy (indexes share layers across platforms). */
  readonly #blobs = new Map<string, Promise<void>>();
  readonly #manifests = new Set<string>();

  constructor(src: ImageSource, dst: ImageDestination, options: CopyOptions = {}) {
    this.#src = src;
    this.#dst = dst;
    this.#o = options;
  }

  async run(): Promise<CopyResult> {
    const root = await this.#src.getManifest();
    const copied = await this.#copyTree(root, this.#o.tag, true);
    this.#result.digest = copied.digest;
    this.#result.mediaType = copied.mediaType;
    return this.#result;
  }

  /** Copies a manifest and everything under it; returns the manifest that was stored. */
  async #copyTree(m: ManifestData, tag: string | undefined, root: boolean): Promise<ManifestData> {
    const parsed = parseManifest(m.bytes, m.mediaType);
    if (parsed.kind === 'index' && (this.#o.platforms !== 'all' || !this.#dst.acceptsIndex)) {
      if (this.#o.platforms === 'all') throw new Error(`${this.#dst.description} holds a single platform: use --platform instead of --all`);
      const child = pickPlatform(parsed, this.#o.platforms ?? hostPlatform());
      return this.#copyTree(await this.#src.getManifest(child.digest), tag, root);
    }
    const present = tag === undefined && !root && (await this.#dst.hasManifest(m.digest));
    if (!present) {
      if (parsed.kind === 'index') {
        for (const child of parsed.manifests) {
          if (this.#manifests.has(child.digest)) continue;
          await this.#copyTree(await this.#src.getManifest(child.digest), undefined, false);
        }
      } else {
        await pool(parsed.blobs, this.#o.jobs ?? 4, (b) => this.#copyBlob(b));
      }
      await this.#dst.putManifest(m, tag);
    }
    this.#manifests.add(m.digest);
    this.#result.manifests++;
    this.#o.onEvent?.({ type: 'manifest', digest: m.digest, mediaType: parsed.mediaType, tag, state: present ? 'skipped' : 'copied' });
    if (this.#o.referrers) await this.#copyReferrers(m.digest);
    return m;
  }

  async #copyReferrers(digest: string): Promise<void> {
    const found = this.#src.referrers ? await this.#src.referrers(digest) : [];
    for (const r of found) {
      if (this.#manifests.has(r.digest)) continue;
      await this.#copyTree(await this.#src.getManifest(r.digest), undefined, false);
      this.#result.referrers++;
    }
  }

  #copyBlob(desc: Descriptor): Promise<void> {
    let running = this.#blobs.get(desc.digest);
    if (!running) {
      running = this.#transfer(desc);
      this.#blobs.set(desc.digest, running);
    }
    return running;
  }

  async #transfer(desc: Descriptor): Promise<void> {
    const emit = this.#o.onEvent;
    const done = (state: 'copied' | 'skipped' | 'mounted') => emit?.({ type: 'blob', digest: desc.digest, size: desc.size, state });
    if (await this.#dst.hasBlob(desc)) {
      this.#result.blobsSkipped++;
      return done('skipped');
    }
    const origin = this.#o.origin;
    if (origin && this.#dst.tryMount && (await this.#dst.tryMount(desc, origin.host, origin.repository))) {
      this.#result.blobsMounted++;
      return done('mounted');
    }
    emit?.({ type: 'blob', digest: desc.digest, size: desc.size, state: 'start' });
    const retries = this.#o.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#dst.putBlob(desc, async () => (await this.#src.getBlob(desc)).pipe(this.#counter(desc.digest)));
        break;
      } catch (err) {
        if (attempt >= retries || !isRetryable(err)) throw err;
        emit?.({ type: 'retry', digest: desc.digest, attempt: attempt + 1, error: (err as Error).message });
        await sleep((this.#o.backoffMs ?? 500) * 2 ** attempt);
      }
    }
    this.#result.blobsCopied++;
    this.#result.bytesCopied += desc.size;
    done('copied');
  }

  #counter(digest: string): Transform {
    const emit = this.#o.onEvent;
    return new Transform({
      transform(chunk: Buffer, _enc, cb) {
        emit?.({ type: 'bytes', digest, bytes: chunk.length });
        cb(null, chunk);
      },
    });
  }
}

export function pickPlatform(index: ParsedManifest, want: Platform): Descriptor {
  const matches = index.manifests.filter((d) => {
    const p = d.platform as Partial<Platform> | undefined;
    return p?.os === want.os && p?.architecture === want.architecture && (!want.variant || p?.variant === want.variant);
  });
  const found = matches[0];
  if (!found) {
    const have = index.manifests.map((d) => { const p = d.platform as Partial<Platform> | undefined; return p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}` : 'unknown'; });
    throw new Error(`no ${want.os}/${want.architecture}${want.variant ? `/${want.variant}` : ''} image in the index (it has ${have.join(', ')}); use --platform or --all`);
  }
  return found;
}

export function copyImage(src: ImageSource, dst: ImageDestination, options: CopyOptions = {}): Promise<CopyResult> {
  return new Copier(src, dst, options).run();
}
