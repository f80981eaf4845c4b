// One registry endpoint over undici: TLS options, the auth dance, manual redirects (the
// Authorization header never follows a redirect to another origin, as Docker and containerd
// behave), and retries with exponential backoff on 5xx, 429 and connection errors. A confined
// endpoint (the pull-through cache's upstreams) also limits where redirects, Links and the
// token realm may take it (host-policy.ts).
import { Agent, request, type Dispatcher, type buildConnector } from 'undici';
import type { Readable } from 'node:stream';
import { parseChallenges } from './challenge.js';
import { Authenticator, type CredentialLookup } from './auth.js';
import { RegistryResponseError, isRetryable, ociErrorOf } from './errors.js';
import { ForbiddenTargetError, HostPolicy } from './host-policy.js';
import { ProxyRoutes, describeProxy, proxyAgent, proxySettingsFromEnv, type ProxySettings } from './proxy-env.js';

export interface TlsOptions {
  /** PEM CA bundle trusted in addition to (not instead of) nothing: when set, only these. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** HTTPS without certificate verification. */
  insecure?: boolean;
}

export interface EndpointOptions {
  /** host[:port] the API is served from. */
  host: string;
  /** Speak plain HTTP instead of HTTPS. */
  plainHttp?: boolean;
  tls?: TlsOptions;
  credentials?: CredentialLookup;
  /** Attempts after the first on retryable failures (default 3). */
  retries?: number;
  /** First backoff in ms, doubled each attempt (default 200). */
  backoffMs?: number;
  userAgent?: string;
  /** Connection timeout in ms (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Bound on waiting for response headers and on a body that stops flowing, in ms (undici's
   * default, 300 s, when unset). The pull-through cache sets it so a dead upstream never hangs a pull.
   */
  ioTimeoutMs?: number;
  /**
   * Confines where this endpoint goes (host-policy.ts): its own origin and these hosts, and
   * other hosts only at public addresses; requests sent `trustedOnly` go to no other host at
   * all. Unset: anywhere (a CLI speaks to the registries its user names).
   */
  confine?: { hosts: readonly string[] };
  /**
   * Forward proxies (proxy-env.ts). Unset: HTTPS_PROXY, HTTP_PROXY and NO_PROXY of the
   * environment; `{}`: always direct.
   */
  proxy?: ProxySettings;
}

export interface SendOptions {
  method: string;
  /** Path and query (`/v2/x/manifests/y`) or an absolute URL (upload locations). */
  path: string;
  headers?: Record<string, string>;
  /** A Buffer, or a factory for a fresh stream per attempt; a bare stream cannot be retried. */
  body?: Buffer | string | (() => Readable) | Readable;
  /** Token scopes this request needs (`repository:a/b:pull`). */
  scopes?: string[];
  /** Statuses that are a success for the caller; anything else throws RegistryResponseError. */
  expect: number[];
  signal?: AbortSignal;
  /** Follow 3xx (GET/HEAD of blobs). Default true. */
  followRedirects?: boolean;
  /**
   * On a confined endpoint, go only to its own origin or its allowed hosts, whatever a redirect
   * or a Link says (manifests, tag lists: what is stored as the registry's answer).
   */
  trustedOnly?: boolean;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  url: string;
}

export function header(res: { headers: Response['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
});

export class Endpoint {
  readonly host: string;
  readonly base: string;
  readonly auth: Authenticator;
  readonly #agent: Agent;
  readonly #retries: number;
  readonly #backoff: number;
  readonly #userAgent: string;
  readonly #policy: HostPolicy | undefined;
  readonly #routes: ProxyRoutes;
  readonly #proxied = new Map<string, Dispatcher>();
  readonly #proxyOptions: Parameters<typeof proxyAgent>[1];
  /** Requests sent, for tests and progress output. */
  requests = 0;

  constructor(options: EndpointOptions) {
    this.host = options.host;
    this.base = `${options.plainHttp ? 'http' : 'https'}://${options.host}`;
    const tls = options.tls ?? {};
    const connect: buildConnector.BuildOptions = {
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      rejectUnauthorized: !tls.insecure,
    };
    this.#policy = options.confine ? new HostPolicy(this.base, options.confine.hosts) : undefined;
    const connectTimeout = options.connectTimeoutMs ?? 10_000;
    this.#agent = new Agent({
      connectTimeout,
      ...(options.ioTimeoutMs !== undefined ? { headersTimeout: options.ioTimeoutMs, bodyTimeout: options.ioTimeoutMs } : {}),
      // A connector function replaces undici's own, so it gets the connect timeout itself.
      connect: this.#policy ? this.#policy.connector({ ...connect, timeout: connectTimeout }) : connect,
    });
    this.#routes = new ProxyRoutes(options.proxy ?? proxySettingsFromEnv());
    this.#proxyOptions = {
      requestTls: connect as Record<string, unknown>, connectTimeout,
      headersTimeout: options.ioTimeoutMs, bodyTimeout: options.ioTimeoutMs,
    };
    this.#retries = options.retries ?? 3;
    this.#backoff = options.backoffMs ?? 200;
    this.#userAgent = options.userAgent ?? 'berth-client/0.1';
    const lookup = options.credentials ?? (async () => undefined);
    this.auth = new Authenticator(options.host, lookup, (url, headers) => this.#tokenFetch(url, headers));
  }

  async close(): Promise<void> {
    await Promise.all([this.#agent.close(), ...[...this.#proxied.values()].map((d) => d.close())]);
  }

  /** The forward proxy a request to `url` goes through, undefined when direct. */
  proxyFor(url: string): string | undefined {
    return this.#routes.proxyFor(new URL(url, this.base));
  }

  /**
   * Sends one request directly or through its proxy. Through a proxy, the proxy resolves and
   * connects to the target, so a confined endpoint checks the target's addresses before
   * (the proxy's own address is the operator's choice and is not checked); a failure names the
   * proxy, without its credentials.
   */
  async #request(url: string, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<Dispatcher.ResponseData> {
    const proxy = this.#routes.proxyFor(new URL(url));
    if (proxy === undefined) return request(url, { ...options, dispatcher: this.#agent });
    if (this.#policy) await this.#policy.checkTarget(url);
    let dispatcher = this.#proxied.get(proxy);
    if (!dispatcher) {
      dispatcher = proxyAgent(proxy, this.#proxyOptions);
      this.#proxied.set(proxy, dispatcher);
    }
    try {
      const res = await request(url, { ...options, dispatcher });
      if (res.statusCode === 407) {
        await res.body.dump();
        throw new ProxyError(proxy, new Error('the proxy wants credentials (407 Proxy Authentication Required): give them in the proxy URL, http://user:password@host:port'));
      }
      return res;
    } catch (err) {
      if (err instanceof ProxyError || (options.signal as AbortSignal | undefined)?.aborted) throw err;
      throw new ProxyError(proxy, err);
    }
  }

  /** Sends with auth and retries; the caller must consume or dump the body of what it gets. */
  async send(opts: SendOptions): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      let wait: number | undefined;
      try {
        const res = await this.#sendAuthenticated(opts);
        if (opts.expect.includes(res.status)) return res;
        const text = opts.method === 'HEAD' ? '' : await res.body.text().catch(() => '');
        if (opts.method === 'HEAD') await res.body.dump();
        const oci = ociErrorOf(text);
        failure = new RegistryResponseError(res.status, `${opts.method} ${res.url}`, oci.code, oci.message ?? text.slice(0, 200));
        const retryAfter = Number(header(res, 'retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.min(retryAfter * 1000, 30_000);
      } catch (err) {
        failure = err;
      }
      if (!this.#canRetry(opts, failure, attempt)) throw failure;
      await sleep(wait ?? this.#delay(attempt), opts.signal);
    }
  }

  #canRetry(opts: SendOptions, err: unknown, attempt: number): boolean {
    const replayable = opts.body === undefined || typeof opts.body === 'string' || Buffer.isBuffer(opts.body) || typeof opts.body === 'function';
    return replayable && attempt < this.#retries && isRetryable(err) && !opts.signal?.aborted;
  }

  #delay(attempt: number): number {
    return this.#backoff * 2 ** attempt * (0.75 + Math.random() / 2);
  }

  async #sendAuthenticated(opts: SendOptions): Promise<Response> {
    const scopes = opts.scopes ?? [];
    const first = await this.#sendFollowing(opts, await this.auth.header(scopes));
    if (first.status !== 401) return first;
    const challenges = parseChallenges(first.headers['www-authenticate']);
    const hadScheme = this.auth.scheme;
    if (!this.auth.learn(challenges)) return first;
    if (hadScheme) {
      // Already authenticated this way and still refused: a stale token gets one more try.
      if (this.auth.scheme !== 'bearer') return first;
      this.auth.invalidate(scopes);
    }
    if (typeof opts.body === 'object' && !Buffer.isBuffer(opts.body)) return first; // a consumed stream
    await first.body.dump();
    return this.#sendFollowing(opts, await this.auth.header(scopes));
  }

  async #sendFollowing(opts: SendOptions, authorization: string | undefined): Promise<Response> {
    let url = /^https?:\/\//.test(opts.path) ? opts.path : `${this.base}${opts.path}`;
    const origin = new URL(this.base).origin;
    for (let hop = 0; ; hop++) {
      if (opts.trustedOnly && this.#policy && !this.#policy.trustsUrl(url)) {
        throw new ForbiddenTargetError(`refused ${opts.method} ${new URL(url).origin}: a redirect or Link of ${this.host} to a host that is neither its origin nor an allowed host`);
      }
      const sameOrigin = new URL(url).origin === origin;
      const headers: Record<string, string> = { 'user-agent': this.#userAgent, ...opts.headers };
      if (authorization && sameOrigin) headers.authorization = authorization;
      const body = typeof opts.body === 'function' ? opts.body() : opts.body;
      this.requests++;
      // undici closes the connection after every HEAD unless told otherwise (for servers that
      // send a body with it); registries do not, and replication HEADs every blob and tag, so
      // each HEAD cost a new connection (a new TLS handshake over HTTPS): keep it.
      const reset = opts.method === 'HEAD' ? { reset: false } : {};
      const res = await this.#request(url, { method: opts.method as Dispatcher.HttpMethod, headers, body: body ?? null, ...reset, ...(opts.signal ? { signal: opts.signal } : {}) });
      const location = res.headers.location;
      const follow = (opts.followRedirects ?? true) && (opts.method === 'GET' || opts.method === 'HEAD');
      if (follow && [301, 302, 303, 307, 308].includes(res.statusCode) && typeof location === 'string' && hop < 5) {
        await res.body.dump();
        url = new URL(location, url).toString();
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url };
    }
  }

  async #tokenFetch(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.requests++;
        const res = await this.#request(url, { method: 'GET', headers: { 'user-agent': this.#userAgent, ...headers } });
        const body = await res.body.text();
        if ((res.statusCode >= 500 || res.statusCode === 429) && attempt < this.#retries) {
          await sleep(this.#delay(attempt));
          continue;
        }
        return { status: res.statusCode, body };
      } catch (err) {
        if (!isRetryable(err) || attempt >= this.#retries) throw err;
        await sleep(this.#delay(attempt));
      }
    }
  }
}

/** A request through a forward proxy failed; `code` is the cause's, so retries judge it as before. */
export class ProxyError extends Error {
  readonly code: string | undefined;
  constructor(proxy: string, cause: unknown) {
    const c = cause as { message?: string; code?: unknown } | undefined;
    super(`through proxy ${describeProxy(proxy)}: ${c?.message ?? String(cause)}`, { cause });
    this.name = 'ProxyError';
    this.code = typeof c?.code === 'string' ? c.code : undefined;
  }
}
