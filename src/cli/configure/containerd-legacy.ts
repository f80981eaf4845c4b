// containerd's CRI plugin refuses to load when config.toml has both `config_path` and the legacy
// `registry.mirrors` (or `registry.configs."host".tls`): "`mirrors` cannot be set when
// `config_path` is provided", and kubelet stops pulling. This turns the legacy keys into the
// hosts.toml documents that say the same thing and removes them from the registry table.
// `registry.configs."host".auth` stays: it is still where CRI credentials go with config_path
// (hosts.toml has no credentials in containerd 1.x/2.x).
import { isTable, stringList, type TomlTable } from './toml.js';

const UPSTREAMS: Record<string, string> = { 'docker.io': 'https://registry-1.docker.io' };

export function defaultServer(host: string): string {
  return UPSTREAMS[host] ?? `https://${host}`;
}

/** A certs.d/<dir>/hosts.toml as data: `server` with its own TLS keys, then mirrors in order. */
export interface HostsDoc {
  server?: string | undefined;
  top: TomlTable;
  hosts: Array<[string, TomlTable]>;
}

export function hostsDocToml(doc: HostsDoc): TomlTable {
  const out: TomlTable = {};
  if (doc.server) out.server = doc.server;
  Object.assign(out, doc.top);
  if (doc.hosts.length > 0) out.host = Object.fromEntries(doc.hosts);
  return out;
}

/** Which legacy keys a CRI registry table has: mirror hosts, and hosts with configs.tls. */
export function legacyKeys(registry: TomlTable | undefined): { mirrors: string[]; tls: string[] } {
  const mirrors = isTable(registry?.mirrors) ? Object.keys(registry.mirrors) : [];
  const configs = isTable(registry?.configs) ? registry.configs : {};
  const tls = Object.keys(configs).filter((h) => isTable(configs[h]) && (configs[h] as TomlTable).tls !== undefined);
  return { mirrors, tls };
}

class Unmigratable extends Error {}

function tlsKeys(tls: unknown, host: string): TomlTable {
  if (!isTable(tls)) return {};
  const out: TomlTable = {};
  if (tls.insecure_skip_verify === true) out.skip_verify = true;
  if (typeof tls.ca_file === 'string' && tls.ca_file) out.ca = tls.ca_file;
  const cert = typeof tls.cert_file === 'string' ? tls.cert_file : '';
  const key = typeof tls.key_file === 'string' ? tls.key_file : '';
  if (cert && key) out.client = [[cert, key]];
  else if (cert || key) throw new Unmigratable(`configs."${host}".tls has ${cert ? 'cert_file without key_file' : 'key_file without cert_file'}`);
  return out;
}

/**
 * Moves the legacy keys of `registry` into hosts.toml documents keyed by certs.d directory
 * (mutating `registry`). Throws with the manual steps when an entry has no hosts.toml equivalent.
 */
export function migrateLegacy(registry: TomlTable, section: string): Map<string, HostsDoc> {
  const docs = new Map<string, HostsDoc>();
  const mirrors = isTable(registry.mirrors) ? registry.mirrors : {};
  const configs = isTable(registry.configs) ? registry.configs : {};
  const tlsOf = (host: string) => tlsKeys(isTable(configs[host]) ? (configs[host] as TomlTable).tls : undefined, host);
  const used = new Set<string>();
  try {
    for (const [name, value] of Object.entries(mirrors)) {
      const dir = name === '*' ? '_default' : name;
      const doc: HostsDoc = { server: name === '*' ? undefined : defaultServer(name), top: {}, hosts: [] };
      for (const endpoint of stringList(isTable(value) ? value.endpoint : undefined)) {
        let url: URL;
        try {
          url = new URL(endpoint);
        } catch {
          throw new Unmigratable(`mirrors."${name}" endpoint "${endpoint}" is not a URL`);
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Unmigratable(`mirrors."${name}" endpoint "${endpoint}" is neither http:// nor https://`);
        if (url.search || url.hash) throw new Unmigratable(`mirrors."${name}" endpoint "${endpoint}" has a query or fragment`);
        const path = url.pathname.replace(/\/+$/, '');
        const origin = `${url.protocol}//${url.host}`;
        used.add(url.host);
        if (!path && url.host === name) {
          // The registry itself, maybe over plain HTTP: that is hosts.toml's `server`.
          doc.server = origin;
          Object.assign(doc.top, tlsOf(url.host));
          continue;
        }
        if (!path && origin === doc.server) continue;
        // A legacy endpoint path is the API root as is; hosts.toml appends /v2 unless override_path.
        doc.hosts.push([`${origin}${path}`, { capabilities: ['pull', 'resolve'], ...(path ? { override_path: true } : {}), ...tlsOf(url.host) }]);
      }
      if (doc.server) {
        const serverHost = new URL(doc.server).host;
        if (!used.has(serverHost)) Object.assign(doc.top, tlsOf(serverHost));
        used.add(serverHost);
      }
      docs.set(dir, doc);
    }
    for (const host of legacyKeys(registry).tls) {
      if (used.has(host)) continue;
      docs.set(host, { server: defaultServer(host), top: tlsOf(host), hosts: [] });
    }
  } catch (err) {
    if (!(err instanceof Unmigratable)) throw err;
    throw new Error(`config.toml has legacy registry settings that cannot be moved to hosts.toml automatically: ${err.message}. `
      + `containerd refuses its CRI plugin when they sit beside config_path, so nothing was changed. Steps: `
      + `(1) write each mirror as /etc/containerd/certs.d/<registry>/hosts.toml (https://github.com/containerd/containerd/blob/main/docs/hosts.md), `
      + `(2) delete ${section}.mirrors and every ${section}.configs."<host>".tls table from config.toml (keep configs."<host>".auth), `
      + `(3) run berth configure containerd again, then systemctl restart containerd`);
  }
  delete registry.mirrors;
  for (const host of Object.keys(configs)) {
    const c = configs[host];
    if (!isTable(c)) continue;
    delete c.tls;
    if (Object.keys(c).length === 0) delete configs[host];
  }
  if (isTable(registry.configs) && Object.keys(registry.configs).length === 0) delete registry.configs;
  return docs;
}
