// Which forward proxy (if any) a request goes through: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and
// their lowercase forms) as undici's EnvHttpProxyAgent reads them, or an explicit proxy from
// the configuration. Routing is decided here, not inside undici, because the endpoint must know
// per request whether it is proxied: the host policy then checks the target itself (the proxy,
// not Berth, resolves and connects to it).
import { ProxyAgent, Pool, type Dispatcher } from 'undici';

export interface ProxySettings {
  /** Proxy for http:// targets. */
  httpProxy?: string | undefined;
  /** Proxy for https:// targets. */
  httpsProxy?: string | undefined;
  /** Hosts reached directly: `host`, `host:port`, `.domain` / `*.domain`, or `*`. */
  noProxy?: string | undefined;
}

/** The environment's proxy settings; lowercase wins, an https target falls back to HTTP_PROXY (as undici does). */
export function proxySettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const pick = (name: string) => (env[name] ?? env[name.toUpperCase()]) || undefined;
  const httpProxy = pick('http_proxy');
  return { httpProxy, httpsProxy: pick('https_proxy') ?? httpProxy, noProxy: pick('no_proxy') };
}

/**
 * A configured `proxy` key: undefined leaves the environment in charge, "" or "none" means
 * direct connections whatever the environment says, a URL is used for every target.
 */
export function proxySettingsFromConfig(value: string | undefined): ProxySettings | undefined {
  if (value === undefined) return undefined;
  if (value === '' || value.toLowerCase() === 'none') return {};
  return { httpProxy: value, httpsProxy: value };
}

/** A proxy URL fit for messages and logs: scheme, host and port, never credentials. */
export function describeProxy(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparseable proxy URL)';
  }
}

/** A proxy URL checked; `host:port` alone means http://host:port, as curl and Go read it. */
function normalize(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  const full = /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? uri : `http://${uri}`;
  let url: URL | undefined;
  try { url = new URL(full); } catch { /* reported below */ }
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) throw new Error(`not an http:// or https:// proxy URL: ${describeProxy(full)}`);
  return full;
}

interface NoProxyEntry {
  hostname: string;
  port: number;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

export class ProxyRoutes {
  readonly #http: string | undefined;
  readonly #https: string | undefined;
  readonly #all: boolean;
  readonly #entries: NoProxyEntry[];

  constructor(settings: ProxySettings) {
    this.#http = normalize(settings.httpProxy);
    this.#https = normalize(settings.httpsProxy);
    const noProxy = (settings.noProxy ?? '').trim();
    this.#all = noProxy === '*';
    this.#entries = noProxy.split(/[,\s]+/).filter(Boolean).map((entry) => {
      const m = /^(.+):(\d+)$/.exec(entry);
      return { hostname: (m ? m[1]! : entry).toLowerCase(), port: m ? Number(m[2]) : 0 };
    });
  }

  /** The proxy URL a request to `url` goes through, or undefined for a direct connection. */
  proxyFor(url: URL): string | undefined {
    const proxy = url.protocol === 'https:' ? this.#https : this.#http;
    if (proxy === undefined || this.#all) return undefined;
    // Brackets kept on IPv6 literals, as NO_PROXY writes them.
    const hostname = url.host.replace(/:\d*$/, '').toLowerCase();
    const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
    for (const e of this.#entries) {
      if (e.port && e.port !== port) continue;
      if (/^[.*]/.test(e.hostname) ? hostname.endsWith(e.hostname.replace(/^\*/, '')) : hostname === e.hostname) return undefined;
    }
    return proxy;
  }
}

export interface ProxyAgentOptions {
  /** TLS options toward the target (through the tunnel). */
  requestTls: Record<string, unknown>;
  connectTimeout: number;
  headersTimeout?: number | undefined;
  bodyTimeout?: number | undefined;
}

/**
 * An undici dispatcher through `uri`: https targets through a CONNECT tunnel, plain http ones
 * as absolute-form requests (what proxies such as squid allow by default; they refuse CONNECT to
 * ports other than 443). Credentials in the URL become Proxy-Authorization.
 */
export function proxyAgent(uri: string, o: ProxyAgentOptions): Dispatcher {
  const timeouts = {
    ...(o.headersTimeout !== undefined ? { headersTimeout: o.headersTimeout } : {}),
    ...(o.bodyTimeout !== undefined ? { bodyTimeout: o.bodyTimeout } : {}),
  };
  return new ProxyAgent({
    uri,
    proxyTunnel: false,
    requestTls: { ...o.requestTls, timeout: o.connectTimeout },
    proxyTls: { timeout: o.connectTimeout },
    ...timeouts,
    // The absolute-form client to the proxy gets the same bounds as every other connection.
    factory: (origin: string | URL, opts: object) => new Pool(origin, { ...opts, ...timeouts }),
  } as ProxyAgent.Options);
}
