// The local client configuration for one registry, under --root: containerd's config_path and
// hosts.toml (the two reasons a mirror "does nothing"), Docker's daemon.json and certs.d,
// Podman's registries.conf.
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { under } from '../configure/plan.js';
import { isLoopback } from '../../client/index.js';
import { fail, ok, skip, warn, type Finding } from './finding.js';

export interface LocalContext {
  root: string;
  host: string;
  hostname: string;
  /** What the network checks learned: the registry speaks only HTTP / its CA is unknown. */
  plainHttp: boolean;
  unknownCa: boolean;
}

const read = (path: string) => readFile(path, 'utf8').catch(() => undefined);

export async function checkContainerd(c: LocalContext): Promise<Finding[]> {
  const configFile = under(c.root, '/etc/containerd/config.toml');
  const config = await read(configFile);
  const defaultDir = '/etc/containerd/certs.d';
  if (config === undefined && !existsSync(under(c.root, defaultDir))) return [skip('containerd', `containerd: no ${configFile} and no ${defaultDir}: not configured on this machine`)];
  const out: Finding[] = [];
  const configPath = config === undefined ? undefined : /^\s*config_path\s*=\s*"([^"]*)"/m.exec(config)?.[1];
  if (config !== undefined && !configPath) {
    out.push(fail('containerd.config-path-missing', `containerd: ${configFile} does not set config_path`,
      'without config_path the CRI plugin (kubelet, crictl) ignores every hosts.toml in certs.d: mirrors and CAs there do nothing',
      [`berth configure containerd --registry ${c.host}   (adds config_path, then: systemctl restart containerd)`,
        'or add under [plugins."io.containerd.grpc.v1.cri".registry] (containerd 1.x) / [plugins."io.containerd.cri.v1.images".registry] (2.x): config_path = "/etc/containerd/certs.d"']));
  } else if (configPath) {
    out.push(ok('containerd.config-path', `containerd: config_path = "${configPath}"`));
  }
  const dir = configPath || defaultDir;
  const expected = join(dir, c.host, 'hosts.toml');
  const hosts = await read(under(c.root, expected));
  if (hosts !== undefined) {
    const server = /^\s*server\s*=\s*"([^"]+)"/m.exec(hosts)?.[1];
    if (c.plainHttp && !new RegExp(`\\[host\\."http://${c.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\]`).test(hosts) && !server?.startsWith('http://')) {
      out.push(fail('containerd.hosts-scheme', `containerd: ${expected} does not say the registry speaks plain HTTP`, 'containerd will try HTTPS and fail with "http: server gave HTTP response to HTTPS client"', [`berth configure containerd --registry ${c.host} --insecure`]));
    } else {
      out.push(ok('containerd.hosts', `containerd: ${expected} found${server ? ` (server = "${server}")` : ''}; ctr needs --hosts-dir ${dir}`));
    }
    return out;
  }
  const candidates = [join(dir, 'hosts.toml'), join(dir, c.hostname, 'hosts.toml'), join(defaultDir, c.host, 'hosts.toml'), join('/etc/containerd', c.host, 'hosts.toml'), join('/etc/containerd/certs.d', c.host, 'hosts.toml')]
    .filter((p) => p !== expected && existsSync(under(c.root, p)));
  for (const entry of await readdir(under(c.root, dir)).catch(() => [] as string[])) {
    if (entry !== c.host && entry.replace(/^https?:\/\//, '').replace(/_/g, ':') === c.host) candidates.push(join(dir, entry, 'hosts.toml'));
  }
  if (candidates.length > 0) {
    out.push(fail('containerd.hosts-misplaced', `containerd: hosts.toml for ${c.host} is in the wrong directory (${candidates[0]})`,
      `containerd looks only at ${expected}: the directory name must be the registry host exactly as in image names, port included`,
      [`mkdir -p ${join(dir, c.host)} && mv ${candidates[0]} ${expected}`]));
  } else if (c.plainHttp || c.unknownCa) {
    out.push(fail('containerd.hosts-missing', `containerd: no ${expected}`, c.plainHttp ? 'containerd speaks HTTPS to registries unless hosts.toml says otherwise' : 'containerd needs the registry\'s CA in hosts.toml', [`berth configure containerd --registry ${c.host} ${c.plainHttp ? '--insecure' : '--ca ca.pem'}`]));
  } else {
    out.push(ok('containerd.hosts', `containerd: no hosts.toml for ${c.host}; the defaults (HTTPS, system CAs) apply`));
  }
  return out;
}

export async function checkDocker(c: LocalContext): Promise<Finding[]> {
  const file = under(c.root, '/etc/docker/daemon.json');
  const text = await read(file);
  if (text === undefined && !existsSync(under(c.root, '/etc/docker'))) return [skip('docker', 'docker: no /etc/docker: not configured on this machine')];
  let doc: { 'insecure-registries'?: string[] } = {};
  try {
    doc = text ? JSON.parse(text) as typeof doc : {};
  } catch (err) {
    return [fail('docker.daemon-json', `docker: ${file} is not valid JSON: ${(err as Error).message}`, 'dockerd refuses to start with it', ['fix the JSON (jq . daemon.json shows where)'])];
  }
  const out: Finding[] = [];
  const insecure = (doc['insecure-registries'] ?? []).includes(c.host);
  if (c.plainHttp && !insecure && !isLoopback(c.host)) {
    out.push(fail('docker.insecure-missing', `docker: ${c.host} is not in insecure-registries`, 'dockerd speaks HTTPS to it and fails with "server gave HTTP response to HTTPS client"', [`berth configure docker --registry ${c.host} --insecure   (then: systemctl restart docker)`]));
  }
  if (c.unknownCa && !existsSync(under(c.root, `/etc/docker/certs.d/${c.host}/ca.crt`)) && !insecure) {
    out.push(fail('docker.ca-missing', `docker: no /etc/docker/certs.d/${c.host}/ca.crt`, 'dockerd cannot verify the registry\'s certificate', [`berth configure docker --registry ${c.host} --ca ca.pem`]));
  }
  if (out.length === 0) out.push(ok('docker', `docker: daemon.json and certs.d fit ${c.host}`));
  return out;
}

export async function checkPodman(c: LocalContext): Promise<Finding[]> {
  const file = under(c.root, '/etc/containers/registries.conf');
  const text = await read(file);
  if (text === undefined) return [skip('podman', 'podman: no /etc/containers/registries.conf: not configured on this machine')];
  const block = new RegExp(`location\\s*=\\s*"${c.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*\\n\\s*insecure\\s*=\\s*true`).test(text);
  if (c.plainHttp && !block) {
    return [fail('podman.insecure-missing', `podman: registries.conf does not mark ${c.host} insecure`, 'podman speaks HTTPS to it', [`berth configure podman --registry ${c.host} --insecure`])];
  }
  if (c.unknownCa && !existsSync(under(c.root, `/etc/containers/certs.d/${c.host}/ca.crt`))) {
    return [fail('podman.ca-missing', `podman: no /etc/containers/certs.d/${c.host}/ca.crt`, 'podman cannot verify the registry\'s certificate', [`berth configure podman --registry ${c.host} --ca ca.pem`])];
  }
  return [ok('podman', `podman: registries.conf fits ${c.host}`)];
}

