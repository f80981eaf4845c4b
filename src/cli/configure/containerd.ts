// containerd: a hosts.toml in certs.d/<host>/ (or certs.d/<upstream>/ for a mirror), and
// `config_path` in config.toml so the CRI plugin reads certs.d at all (the classic reason a
// hosts.toml "does nothing"). Both the 1.x (`io.containerd.grpc.v1.cri`, config version 2)
// and the 2.x (`io.containerd.cri.v1.images`, version 3) sections are handled. Legacy
// `registry.mirrors` / `configs.tls` are moved into hosts.toml files: containerd refuses its
// CRI plugin when they sit beside config_path.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { parseCreds } from '../../client/index.js';
import { readOptional, under, type FileEdit, type Plan } from './plan.js';
import { scheme, trustFiles, type ConfigureOptions } from './options.js';
import { defaultServer, hostsDocToml, legacyKeys, migrateLegacy, type HostsDoc } from './containerd-legacy.js';
import { findTable, isTable, parseToml, stringifyToml, tableAt, type TomlTable } from './toml.js';

export const CERTS_D = '/etc/containerd/certs.d';
export const CONFIG_TOML = '/etc/containerd/config.toml';

/** The CRI plugin that holds `registry` and `max_concurrent_downloads` for a config version. */
export function criPlugin(doc: TomlTable | undefined): { plugin: string; version: number } {
  const version = typeof doc?.version === 'number' ? doc.version : 2;
  return { version, plugin: version >= 3 ? 'io.containerd.cri.v1.images' : 'io.containerd.grpc.v1.cri' };
}

/** The CRI registry table of a parsed config.toml, whichever of the two plugins holds it. */
export function criRegistry(doc: TomlTable | undefined): { registry: TomlTable | undefined; section: string } {
  for (const plugin of ['io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.images']) {
    const registry = findTable(doc, ['plugins', plugin, 'registry']);
    if (registry) return { registry, section: `[plugins."${plugin}".registry]` };
  }
  return { registry: undefined, section: `[plugins."${criPlugin(doc).plugin}".registry]` };
}

export interface ContainerdOptions extends ConfigureOptions {
  /** USER:PASSWORD for the CRI plugin (registry.configs."<host>".auth in config.toml). */
  creds?: string | undefined;
}

export async function containerdPlan(o: ContainerdOptions): Promise<Plan> {
  const trust = await trustFiles(o);
  const namespace = o.mirrorOf ?? o.registry;
  const edits: FileEdit[] = [];
  const notes: string[] = [];

  const configPath = under(o.root, CONFIG_TOML);
  const before = await readOptional(configPath);
  const doc: TomlTable = before === undefined ? { version: 2 } : parseToml(before, configPath);
  const { plugin } = criPlugin(doc);
  const registry = tableAt(doc, ['plugins', plugin, 'registry']);
  const existing = typeof registry.config_path === 'string' ? registry.config_path : '';
  if (existing === '') registry.config_path = CERTS_D;
  else if (existing !== CERTS_D) {
    notes.push(`config.toml already sets config_path = "${existing}"; the hosts.toml was written to ${CERTS_D}: move it under ${existing}/${namespace}/ or change config_path`);
  }
  const certsD = existing.split(':')[0] || CERTS_D;

  // Legacy mirrors and TLS settings become hosts.toml files: never both, or CRI does not load.
  const legacy = legacyKeys(registry);
  const migrated = legacy.mirrors.length + legacy.tls.length > 0 || registry.mirrors !== undefined ? migrateLegacy(registry, `[plugins."${plugin}".registry]`) : new Map<string, HostsDoc>();

  const ours: HostsDoc = { server: o.mirrorOf ? defaultServer(o.mirrorOf) : `${scheme(o)}://${o.registry}`, top: {}, hosts: [] };
  const entry: TomlTable = { capabilities: o.mirrorOf ? ['pull', 'resolve'] : ['pull', 'resolve', 'push'] };
  const ourDir = under(o.root, join(CERTS_D, namespace));
  if (o.insecure && !o.plainHttp) entry.skip_verify = true;
  if (trust.ca) {
    edits.push({ path: join(ourDir, 'ca.crt'), content: trust.ca });
    // Relative paths are resolved against the hosts.toml directory, so this works under any --root.
    entry.ca = 'ca.crt';
  }
  if (trust.cert && trust.key) {
    edits.push({ path: join(ourDir, 'client.cert'), content: trust.cert }, { path: join(ourDir, 'client.key'), content: trust.key, mode: 0o600 });
    entry.client = [['client.cert', 'client.key']];
  }
  const ourUrl = `${scheme(o)}://${o.registry}`;
  ours.hosts.push([ourUrl, entry]);
  const previous = migrated.get(namespace);
  if (previous) {
    // The mirrors config.toml listed for the same registry keep their order, after this one.
    ours.top = previous.top;
    ours.hosts.push(...previous.hosts.filter(([url]) => url !== ourUrl));
    migrated.delete(namespace);
  }
  edits.push({ path: join(ourDir, 'hosts.toml'), content: `# Written by berth configure containerd.\n${stringifyToml(hostsDocToml(ours))}` });

  const conflicts: string[] = [];
  for (const [dir, hostsDoc] of migrated) {
    const file = under(o.root, join(certsD, dir, 'hosts.toml'));
    const content = `# Moved from config.toml by berth configure containerd.\n${stringifyToml(hostsDocToml(hostsDoc))}`;
    if (existsSync(file) && (await readOptional(file)) !== content) conflicts.push(join(certsD, dir, 'hosts.toml'));
    else edits.push({ path: file, content });
  }
  if (conflicts.length > 0) {
    throw new Error(`config.toml has legacy registry.mirrors/configs for registries that already have a hosts.toml (${conflicts.join(', ')}); `
      + `containerd refuses its CRI plugin when both are set, and berth will not overwrite them. Steps: (1) merge the config.toml entries for those hosts into the hosts.toml files by hand, `
      + `(2) delete [plugins."${plugin}".registry.mirrors] and every configs."<host>".tls table from ${CONFIG_TOML}, (3) run this command again`);
  }
  if (migrated.size > 0 || previous) {
    notes.push(`moved the legacy registry.mirrors/configs TLS settings of config.toml into hosts.toml (${[...(previous ? [namespace] : []), ...migrated.keys()].join(', ')}); registry.configs."<host>".auth stays in config.toml`);
  }

  const secrets: string[] = [];
  if (o.creds) {
    const { username, password } = parseCreds(o.creds);
    tableAt(registry, ['configs', o.registry, 'auth']).username = username;
    (tableAt(registry, ['configs', o.registry, 'auth'])).password = password;
    secrets.push(password);
  }
  if (o.maxConcurrentDownloads) tableAt(doc, ['plugins', plugin]).max_concurrent_downloads = o.maxConcurrentDownloads;

  // Every credential in the file is kept out of the --dry-run diff, not only the one just given.
  let hasAuth = false;
  for (const c of Object.values(isTable(registry.configs) ? registry.configs : {})) {
    if (!isTable(c) || !isTable(c.auth)) continue;
    hasAuth = true;
    for (const k of ['password', 'auth', 'identitytoken']) if (typeof c.auth[k] === 'string') secrets.push(c.auth[k] as string);
  }
  const config = stringifyToml(doc);
  const restart: string[] = [];
  if (before === undefined || JSON.stringify(parseToml(before, configPath)) !== JSON.stringify(doc)) {
    // Credentials in the file: readable by root only.
    edits.push({ path: configPath, content: config, ...(hasAuth ? { mode: 0o600 } : {}), secrets });
    restart.push('systemctl restart containerd   (config.toml changed; hosts.toml files are read on every pull)');
  }
  if (o.prefix && o.mirrorOf) {
    notes.push(`hosts.toml names ${o.registry} without /${o.prefix}: containerd sends ?ns=${o.mirrorOf} with every mirror request, `
      + `and Berth routes it to the upstream whose namespaces list ${o.mirrorOf} (give "${o.prefix}" namespaces: [${o.mirrorOf}])`);
  }
  notes.push(`ctr reads hosts.toml only when asked: ctr images pull --hosts-dir ${CERTS_D} ${o.mirrorOf ? `${o.mirrorOf}/library/alpine:latest` : `${o.registry}/IMAGE`}`);
  return { edits, restart, notes };
}
