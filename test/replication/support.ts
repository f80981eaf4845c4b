// Helpers of the replication tests: waiting for a registry to show what a job should have put
// there, reading digests and tags over plain HTTP, and the replication section of a config.
import { createServer, request as httpRequest } from 'node:http';
import type { ConfigInput } from '../../src/config/schema.js';
import { listenLoopback } from '../support/listen.js';

/** Polls `check` until it returns a value other than undefined; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The digest a registry answers for repo:ref, undefined on 404. */
export async function digestAt(base: string, repo: string, ref: string, auth?: string): Promise<string | undefined> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, { method: 'HEAD', headers: { accept: ACCEPT, ...(auth ? { authorization: auth } : {}) } });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`HEAD ${repo}:${ref} answered ${res.status}`);
  return res.headers.get('docker-content-digest') ?? undefined;
}

export async function tagsAt(base: string, repo: string, auth?: string): Promise<string[]> {
  const res = await fetch(`${base}/v2/${repo}/tags/list`, { headers: auth ? { authorization: auth } : {} });
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return (body.tags ?? []).sort();
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export type ReplicationInput = NonNullable<ConfigInput['replication']>;

/** A replication section with quick test timings (short leases, polls and backoffs). */
/** The sealing key of the replication tests' registries. */
export const TEST_KEY = Buffer.alloc(32, 42).toString('base64');

export function replicationSection(partial: Partial<ReplicationInput>): ReplicationInput {
  return {
    // Endpoint passwords are stored sealed: a key is needed wherever one is configured.
    key: TEST_KEY, lease: '3s', workers: 4, maxattempts: 5, backoff: '200ms', maxbackoff: '1s', poll: '200ms', endpoints: [], policies: [],
    ...partial,
  } as ReplicationInput;
}

/**
 * An upstream that paginates and throttles, in front of a real registry: tag lists and the
 * catalog are asked in pages of `pageSize` (the registry then sends `Link` headers), and every
 * `throttleEvery`-th request is answered 429 with `Retry-After: 1`.
 */
export class PagingThrottlingProxy {
  throttled = 0;
  pages = 0;
  #count = 0;
  readonly #server: ReturnType<typeof createServer>;
  url = '';
  host = '';

  private constructor(target: string, pageSize: number, throttleEvery: number) {
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (++this.#count % throttleEvery === 0) {
        this.throttled++;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
        return;
      }
      if (/\/tags\/list$|\/_catalog$/.test(url.pathname)) {
        this.pages++;
        if (!url.searchParams.has('n')) url.searchParams.set('n', String(pageSize));
      }
      const up = httpRequest(`http://${target}${url.pathname}${url.search}`, { method: req.method, headers: { ...req.headers, host: target } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
  }

  static async start(target: string, pageSize = 2, throttleEvery = 4): Promise<PagingThrottlingProxy> {
    const p = new PagingThrottlingProxy(target, pageSize, throttleEvery);
    ({ host: p.host, url: p.url } = await listenLoopback(p.#server));
    return p;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
