// The part of the configuration the HTTP layer uses, resolved once at startup.
import type { Config } from '../config/schema.js';
import { ProxyTrust } from '../net/proxy-trust.js';

export interface HttpSettings {
  deleteEnabled: boolean;
  readOnly: boolean;
  /** Path prefix before /v2/ (Distribution's http.prefix), without a trailing slash. */
  prefix: string;
  /** Externally visible base URL (http.host), without a trailing slash, or ''. */
  host: string;
  relativeUrls: boolean;
  headers: Record<string, string[]>;
  corsOrigins: string[];
  corsMaxAge: number;
  maxManifestBytes: number;
  maxHeaderBytes: number;
  catalogMaxEntries: number;
  /** storage.crossmount: whether and how far `?mount=` without `from` searches. */
  automaticMount: { enabled: boolean; maxRepositories: number };
  /** Whose forwarding headers are believed (http.trustedproxies). */
  proxies: ProxyTrust;
  /** Logs an operator's mistake once per process (set by the server). */
  warnOnce?: (message: string) => void;
  /** http.timeouts.bodyidle in ms; 0: off. */
  bodyIdleMs: number;
  /** http.timeouts.header in ms: the most a request head may take to arrive; 0: off. */
  headerTimeoutMs: number;
  /** http.limits.maxconnectionsperclient; 0: no limit. */
  maxConnectionsPerClient: number;
  /** http.trustedproxies: peers whose connections the per-client limit does not count. */
  trustedProxies: string[];
}

export function httpSettingsFrom(config: Config): HttpSettings {
  return {
    deleteEnabled: config.storage.delete.enabled,
    readOnly: config.storage.maintenance.readonly.enabled,
    prefix: config.http.prefix.replace(/\/+$/, ''),
    host: config.http.host.replace(/\/+$/, ''),
    relativeUrls: config.http.relativeurls,
    headers: config.http.headers,
    corsOrigins: config.http.cors.allowedorigins,
    corsMaxAge: config.http.cors.maxage,
    maxManifestBytes: config.http.limits.maxmanifestbytes,
    maxHeaderBytes: config.http.limits.maxheaderbytes,
    catalogMaxEntries: config.catalog.maxentries,
    automaticMount: { enabled: config.storage.crossmount.automatic, maxRepositories: config.storage.crossmount.maxrepositories },
    proxies: new ProxyTrust(config.http.trustedproxies, config.http.forwardedheader),
    bodyIdleMs: config.http.timeouts.bodyidle,
    headerTimeoutMs: config.http.timeouts.header,
    maxConnectionsPerClient: config.http.limits.maxconnectionsperclient,
    trustedProxies: config.http.trustedproxies,
  };
}
