// Plumbing of the pull-through cache tests: the counting upstream (test/fakes) in front of the
// upstream registry, a downstream Berth configured with upstreams, and pulls that check every
// digest.
import { createHash } from 'node:crypto';
import type { ConfigInput as Config } from '../../src/config/schema.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { after, before } from 'node:test';
import { removeDir, tempDir } from '../e2e/support/env.js';

import { CountingProxy } from '../fakes/counting-upstream.js';

export { CountingProxy, type SeenRequest, type UpstreamMode } from '../fakes/counting-upstream.js';

export type UpstreamEntry = Config['proxy']['upstreams'][number];

/** An upstream entry with the schema's defaults, overridden by `extra`. */
export function upstream(name: string, remoteurl: string, extra: Partial<UpstreamEntry> = {}): UpstreamEntry {
  return {
    name, remoteurl, namespaces: [], root: false, ttl: '1h', timeout: '5s', tls: { insecureskipverify: false },
    maxsize: '0', maxage: '0', breakerthreshold: 5, breakercooldown: '30s', allowedhosts: [], ...extra,
  };
}

/** A Berth whose proxy section is set by `proxy` (filesystem storage, so the cache is real files). */
export function startMirror(proxy: Partial<Config['proxy']>, configure?: (c: Config) => void): Promise<TestRegistry> {
  return startTestRegistry({
    storage: 'filesystem',
    configure: (config) => {
      config.proxy = { ...config.proxy, ...proxy };
      configure?.(config);
    },
  });
}

export interface PullResult {
  status: number;
  digest?: string;
  /** X-Berth-Cache of the manifest and of each blob. */
  cache: string[];
  warning?: string | null;
  body?: string;
}

/** Pulls `name:reference` from `base` the way a client does (manifest, then config and layers), verifying every digest. */
export async function pull(base: string, name: string, reference: string, query = ''): Promise<PullResult> {
  const res = await fetch(`${base}/v2/${name}/manifests/${reference}${query}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) return { status: res.status, cache: [], warning: res.headers.get('warning'), body: bytes.toString('utf8') };
  const digest = res.headers.get('docker-content-digest') ?? '';
  if (sha256(bytes) !== digest) throw new Error(`manifest ${name}:${reference}: served ${sha256(bytes)} as ${digest}`);
  const cache = [res.headers.get('x-berth-cache') ?? ''];
  const doc = JSON.parse(bytes.toString('utf8')) as { config?: { digest: string }; layers?: Array<{ digest: string }> };
  for (const d of [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest)]) {
    if (!d) continue;
    const b = await fetch(`${base}/v2/${name}/blobs/${d}${query}`);
    const data = Buffer.from(await b.arrayBuffer());
    if (b.status !== 200) return { status: b.status, cache, body: data.toString('utf8') };
    if (sha256(data) !== d) throw new Error(`blob ${d} of ${name}: served ${sha256(data)}`);
    cache.push(b.headers.get('x-berth-cache') ?? '');
  }
  return { status: 200, digest, cache, warning: res.headers.get('warning') };
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A blob GET whose bytes are hashed as they stream (never held whole), with its status and cache header. */
export async function streamBlob(base: string, name: string, digest: string): Promise<{ status: number; digest: string; cache: string | null; size: number }> {
  const res = await fetch(`${base}/v2/${name}/blobs/${digest}`);
  const hash = createHash('sha256');
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.length;
    }
  }
  return { status: res.status, digest: `sha256:${hash.digest('hex')}`, cache: res.headers.get('x-berth-cache'), size };
}

export interface BigBlob {
  path: string;
  digest: string;
  size: number;
}

/** Writes `size` random bytes to a file under `dir`, hashing them on the way (never held whole). */
export async function bigBlobFile(dir: string, size: number): Promise<BigBlob> {
  const { createWriteStream } = await import('node:fs');
  const { randomBytes } = await import('node:crypto');
  const { join } = await import('node:path');
  const path = join(dir, `blob-${size}-${Math.random().toString(36).slice(2)}`);
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  const CHUNK = 1 << 20;
  for (let left = size; left > 0; left -= CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, left));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { path, digest: `sha256:${hash.digest('hex')}`, size };
}

/** Pushes a blob file in one streamed POST (?digest=); returns the status. */
export async function pushBlobFile(base: string, name: string, blob: BigBlob, authorization?: string): Promise<number> {
  const { createReadStream } = await import('node:fs');
  const { Readable } = await import('node:stream');
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${blob.digest}`, {
    method: 'POST',
    body: Readable.toWeb(createReadStream(blob.path)) as ReadableStream,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size), ...(authorization ? { authorization } : {}) },
    duplex: 'half',
  } as RequestInit);
  await res.arrayBuffer();
  return res.status;
}

export interface MirroredUpstream {
  /** The upstream: a filesystem Berth without auth. */
  up: TestRegistry;
  /** Counts what reaches the upstream. */
  counter: CountingProxy;
  /** Berth mirroring it as upstream `hub`. */
  mirror: TestRegistry;
  /** A scratch directory for blob files. */
  dir: string;
}

/** Registers the suite's before/after hooks for an upstream behind a counting proxy, mirrored as `hub`. */
export function mirroredUpstream(dirName: string): MirroredUpstream {
  const f = {} as MirroredUpstream;
  before(async () => {
    f.dir = await tempDir(dirName);
    f.up = await startTestRegistry({ storage: 'filesystem' });
    f.counter = await CountingProxy.start(f.up.host);
    f.mirror = await startMirror({ upstreams: [upstream('hub', f.counter.url)] });
  });
  after(async () => {
    await f.mirror?.close();
    await f.counter?.close();
    await f.up?.close();
    if (f.dir) await removeDir(f.dir);
  });
  return f;
}
