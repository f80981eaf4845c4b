// The upstream pool: one RegistryClient per configured upstream, with its credentials, TLS,
// bounded timeouts and circuit breaker. Distribution's single `proxy.remoteurl` arrives from the
// configuration loader as the upstream named "default" that owns every repository name unchanged.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { DEFAULT_UPSTREAM, type Config, type UpstreamSettings } from '../config/schema.js';
import { RegistryClient } from '../client/registry-client.js';
import type { TlsOptions } from '../client/http.js';
import { proxySettingsFromConfig } from '../client/proxy-env.js';
import { CircuitBreaker } from './breaker.js';
import type { UpstreamAdmission } from './admission.js';

export interface Upstream {
  name: string;
  remoteurl: string;
  /** Local names under `<prefix>/` belong to this upstream; undefined: every name (Distribution mode). */
  prefix: string | undefined;
  namespaces: string[];
  root: boolean;
  /** Docker Hub: single-component names get `library/`. */
  dockerHub: boolean;
  ttlMs: number;
  timeoutMs: number;
  /** Cache limit in bytes for eviction (0: none). */
  maxBytes: number;
  /** Evict what was not pulled for this long, ms (0: never). */
  maxAgeMs: number;
  client: RegistryClient;
  breaker: CircuitBreaker;
  /** Where upstream failures are told in full (the server's logger; silent until set). */
  log: UpstreamLog;
  /** The trust policy fetched manifests must satisfy (`verify:`), if any. */
  verify: string | undefined;
  /** The check that policy makes, installed by the server (pullThroughFromConfig). */
  admission?: UpstreamAdmission;
}

export interface UpstreamLog {
  warn(obj: object, msg: string): void;
}

const SILENT: UpstreamLog = { warn: () => undefined };

export { DEFAULT_UPSTREAM };

export function upstreamsFromConfig(config: Config, userAgent = 'berth-proxy/0.1'): Upstream[] {
  return config.proxy.upstreams.map((u) => buildUpstream(u, userAgent));
}

function buildUpstream(u: UpstreamSettings, userAgent: string): Upstream {
  const url = new URL(u.remoteurl);
  const timeoutMs = u.timeout;
  const proxy = proxySettingsFromConfig(u.proxy);
  const creds = u.username !== undefined ? { username: u.username, password: u.password ?? '' } : undefined;
  const client = new RegistryClient({
    host: url.host,
    plainHttp: url.protocol === 'http:',
    tls: tlsOf(u.tls),
    credentials: async () => creds,
    // A pull waits on this request: no backoff loop, the breaker and the stale copy handle failures.
    retries: 0,
    connectTimeoutMs: Math.min(timeoutMs, 10_000),
    ioTimeoutMs: timeoutMs,
    userAgent,
    // The upstream chooses redirect targets, Link pages and its token realm: none of them may
    // point Berth at the operator's own network unless the operator listed the host.
    confine: { hosts: u.allowedhosts },
    // An explicit key wins over the environment; unset, the endpoint reads the environment.
    ...(proxy ? { proxy } : {}),
  });
  const hub = /(^|\.)docker\.io$/.test(url.hostname) || u.namespaces.includes('docker.io');
  return {
    name: u.name, remoteurl: u.remoteurl, prefix: u.prefix, namespaces: u.namespaces.map((n) => n.toLowerCase()), root: u.root,
    dockerHub: hub, ttlMs: u.ttl, timeoutMs, client, maxBytes: u.maxsize, maxAgeMs: u.maxage,
    breaker: new CircuitBreaker(u.breakerthreshold, u.breakercooldown),
    log: SILENT,
    verify: u.verify,
  };
}

function tlsOf(t: UpstreamSettings['tls']): TlsOptions {
  return {
    // An extra CA, trusted beside the system's (undici's `ca` replaces them otherwise).
    ...(t.ca ? { ca: [...rootCertificates, readFileSync(t.ca, 'utf8')].join('\n') } : {}),
    ...(t.certificate ? { cert: readFileSync(t.certificate) } : {}),
    ...(t.key ? { key: readFileSync(t.key) } : {}),
    ...(t.insecureskipverify ? { insecure: true } : {}),
  };
}
