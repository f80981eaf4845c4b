// containerd: config_path in config.toml (without it the CRI plugin ignores certs.d), legacy
// registry.mirrors beside it (then the CRI plugin does not load at all), the registry's own
// hosts.toml, and the hosts.toml files that name it as a mirror.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { under } from '../configure/plan.js';
import { criRegistry } from '../configure/containerd.js';
import { legacyKeys } from '../configure/containerd-legacy.js';
import { isTable, parseToml, stringList, type TomlTable } from '../configure/toml.js';
import { criConfigPath } from './daemons.js';
import { hostOf, read, type LocalContext } from './context.js';
import { fail, ok, skip, type Finding } from './finding.js';

const DEFAULT_DIR = '/etc/containerd/certs.d';

function parseHosts(text: string, file: string): { doc?: TomlTable; error?: Finding } {
  try {
    return { doc: parseToml(text, file) };
  } catch (err) {
    return { error: fail('containerd.hosts-invalid', `containerd: ${(err as Error).message}`, 'containerd fails every pull from this registry', [`fix the TOML in ${file}, or rewrite it: berth configure containerd ...`]) };
  }
}

export async function checkContainerd(c: LocalContext): Promise<Finding[]> {
  const configFile = under(c.root, '/etc/containerd/config.toml');
  const text = await read(configFile);
  if (text === undefined && !existsSync(under(c.root, DEFAULT_DIR))) return [skip('containerd', `containerd: no ${configFile} and no ${DEFAULT_DIR}: not configured on this machine`)];
  const out: Finding[] = [];
  let config: TomlTable | undefined;
  if (text !== undefined) {
    try {
      config = parseToml(text, configFile);
    } catch (err) {
      return [fail('containerd.config-invalid', `containerd: ${(err as Error).message}`, 'containerd does not start with it', [`fix ${configFile} (containerd config dump shows what it reads)`])];
    }
  }
  const { registry, section } = criRegistry(config);
  const configPath = typeof registry?.config_path === 'string' && registry.config_path ? registry.config_path : undefined;
  const legacy = legacyKeys(registry);
  if (configPath && legacy.mirrors.length + legacy.tls.length > 0) {
    out.push(fail('containerd.legacy-conflict', `containerd: ${configFile} sets config_path and also the legacy ${[...legacy.mirrors.length ? [`registry.mirrors (${legacy.mirrors.join(', ')})`] : [], ...legacy.tls.length ? [`registry.configs TLS (${legacy.tls.join(', ')})`] : []].join(' and ')}`,
      'containerd refuses to load its CRI plugin ("`mirrors` cannot be set when `config_path` is provided"): kubelet and crictl cannot pull at all',
      [`berth configure containerd --registry ${c.host}   (moves them into ${configPath}/<host>/hosts.toml, with a backup; then: systemctl restart containerd)`,
        `or by hand: write each mirror as ${configPath}/<host>/hosts.toml, delete ${section.replace(/\]$/, '.mirrors]')} and every configs."<host>".tls table, then systemctl restart containerd`]));
  }
  if (config !== undefined && !configPath) {
    out.push(fail('containerd.config-path-missing', `containerd: ${configFile} does not set config_path`,
      'without config_path the CRI plugin (kubelet, crictl) ignores every hosts.toml in certs.d: mirrors and CAs there do nothing',
      [`berth configure containerd --registry ${c.host}   (adds config_path, then: systemctl restart containerd)`,
        'or add under [plugins."io.containerd.grpc.v1.cri".registry] (containerd 1.x) / [plugins."io.containerd.cri.v1.images".registry] (2.x): config_path = "/etc/containerd/certs.d"']));
  } else if (configPath) {
    out.push(ok('containerd.config-path', `containerd: config_path = "${configPath}"`));
    const running = await criConfigPath(c.root, c.timeoutMs);
    if (running && running.configPath !== configPath) {
      out.push(fail('containerd.not-restarted', `containerd: the running CRI plugin has config_path = "${running.configPath}", ${configFile} says "${configPath}"`,
        'containerd reads config.toml only when it starts: the edit is not in effect', ['systemctl restart containerd']));
    }
  }
  const dir = configPath?.split(':')[0] || DEFAULT_DIR;
  const mirrorFindings = await checkMirrorOf(c, dir);
  out.push(...mirrorFindings);
  const expected = join(dir, c.host, 'hosts.toml');
  const hostsText = await read(under(c.root, expected));
  if (hostsText !== undefined) {
    const { doc, error } = parseHosts(hostsText, expected);
    if (error || !doc) return [...out, error!];
    const server = typeof doc.server === 'string' ? doc.server : undefined;
    const hosts = isTable(doc.host) ? Object.keys(doc.host) : [];
    if (c.plainHttp && !hosts.includes(`http://${c.host}`) && !server?.startsWith('http://')) {
      out.push(fail('containerd.hosts-scheme', `containerd: ${expected} does not say the registry speaks plain HTTP`, 'containerd will try HTTPS and fail with "http: server gave HTTP response to HTTPS client"', [`berth configure containerd --registry ${c.host} --insecure`]));
    } else {
      out.push(ok('containerd.hosts', `containerd: ${expected} found${server ? ` (server = "${server}")` : ''}; ctr needs --hosts-dir ${dir}`));
    }
    return out;
  }
  const candidates = [join(dir, 'hosts.toml'), join(dir, c.hostname, 'hosts.toml'), join(DEFAULT_DIR, c.host, 'hosts.toml'), join('/etc/containerd', c.host, 'hosts.toml')]
    .filter((p, i, all) => p !== expected && all.indexOf(p) === i && existsSync(under(c.root, p)));
  for (const entry of await readdir(under(c.root, dir)).catch(() => [] as string[])) {
    if (entry !== c.host && entry.replace(/^https?:\/\//, '').replace(/_/g, ':') === c.host) candidates.push(join(dir, entry, 'hosts.toml'));
  }
  if (candidates.length > 0) {
    out.push(fail('containerd.hosts-misplaced', `containerd: hosts.toml for ${c.host} is in the wrong directory (${candidates[0]})`,
      `containerd looks only at ${expected}: the directory name must be the registry host exactly as in image names, port included`,
      [`mkdir -p ${join(dir, c.host)} && mv ${candidates[0]} ${expected}`]));
  } else if (mirrorFindings.length > 0) {
    out.push(ok('containerd.hosts', `containerd: no hosts.toml for ${c.host} itself; it is used as a mirror (above)`));
  } else if (c.plainHttp || c.unknownCa) {
    out.push(fail('containerd.hosts-missing', `containerd: no ${expected}`, c.plainHttp ? 'containerd speaks HTTPS to registries unless hosts.toml says otherwise' : 'containerd needs the registry\'s CA in hosts.toml', [`berth configure containerd --registry ${c.host} ${c.plainHttp ? '--insecure' : '--ca ca.pem'}`]));
  } else {
    out.push(ok('containerd.hosts', `containerd: no hosts.toml for ${c.host}; the defaults (HTTPS, system CAs) apply`));
  }
  return out;
}

/** certs.d/<upstream>/hosts.toml files with a [host."…"] entry for this registry. */
async function checkMirrorOf(c: LocalContext, dir: string): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const upstream of await readdir(under(c.root, dir)).catch(() => [] as string[])) {
    if (upstream === c.host) continue;
    const file = join(dir, upstream, 'hosts.toml');
    const text = await read(under(c.root, file));
    if (text === undefined) continue;
    const { doc, error } = parseHosts(text, file);
    if (error || !doc) {
      out.push(error!);
      continue;
    }
    for (const [url, entry] of Object.entries(isTable(doc.host) ? doc.host : {})) {
      if (hostOf(url) !== c.host || !isTable(entry)) continue;
      const capabilities = entry.capabilities === undefined ? ['pull', 'resolve', 'push'] : stringList(entry.capabilities);
      if (capabilities.includes('push')) {
        out.push(fail('containerd.mirror-push', `containerd: ${file} gives the mirror ${url} the push capability`,
          `a mirror of ${upstream} cannot take pushes: containerd would push ${upstream} images to it${entry.capabilities === undefined ? ' (no capabilities line means all three)' : ''}`,
          [`in ${file} under [host."${url}"]: capabilities = ["pull", "resolve"]`]));
      }
      if (c.plainHttp && !url.startsWith('http://')) {
        out.push(fail('containerd.hosts-scheme', `containerd: ${file} names the mirror as ${url}, but it speaks plain HTTP`, 'containerd tries HTTPS and falls back to the upstream', [`in ${file}: [host."http://${c.host}"]`]));
      } else if (!capabilities.includes('push')) {
        out.push(ok('containerd.mirror', `containerd: ${file} uses ${url} as a mirror of ${upstream}`));
      }
    }
  }
  return out;
}
