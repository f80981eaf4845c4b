// Docker: daemon.json (insecure-registries as dockerd reads them: host[:port], an http:// or
// https:// prefix, or a CIDR; registry-mirrors), certs.d, and the running dockerd's own view.
import { existsSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { under } from '../configure/plan.js';
import { isLoopback } from '../../client/index.js';
import { dockerRegistryConfig, type DockerRegistryConfig } from './daemons.js';
import { hostOf, read, type LocalContext } from './context.js';
import { fail, ok, skip, type Finding } from './finding.js';

function inCidrs(hostname: string, cidrs: string[]): boolean {
  const family = isIP(hostname);
  if (!family) return false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const f = isIP(net ?? '');
    if (f && bits !== undefined) {
      try {
        list.addSubnet(net!, Number(bits), f === 6 ? 'ipv6' : 'ipv4');
      } catch { /* not a subnet dockerd accepts either */ }
    }
  }
  return list.check(hostname, family === 6 ? 'ipv6' : 'ipv4');
}

/** Whether an insecure-registries list covers the registry, as dockerd matches it. */
export function insecureCovers(entries: string[], host: string, hostname: string): boolean {
  const names = entries.filter((e) => !e.includes('/') || /^[a-z]+:\/\//i.test(e)).map((e) => hostOf(e));
  return names.includes(host) || inCidrs(hostname, entries.filter((e) => /^[0-9a-f.:]+\/\d+$/i.test(e)));
}

function daemonInsecure(rc: DockerRegistryConfig, c: LocalContext): boolean {
  const known = rc.secure.get(c.host);
  if (known !== undefined) return !known;
  return inCidrs(c.hostname, rc.insecureCidrs);
}

export async function checkDocker(c: LocalContext): Promise<Finding[]> {
  const file = under(c.root, '/etc/docker/daemon.json');
  const text = await read(file);
  if (text === undefined && !existsSync(under(c.root, '/etc/docker'))) return [skip('docker', 'docker: no /etc/docker: not configured on this machine')];
  let doc: { 'insecure-registries'?: unknown; 'registry-mirrors'?: unknown } = {};
  try {
    doc = text ? JSON.parse(text) as typeof doc : {};
  } catch (err) {
    return [fail('docker.daemon-json', `docker: ${file} is not valid JSON: ${(err as Error).message}`, 'dockerd refuses to start with it', ['fix the JSON (jq . daemon.json shows where)'])];
  }
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const out: Finding[] = [];
  const insecure = insecureCovers(strings(doc['insecure-registries']), c.host, c.hostname);
  const mirrors = strings(doc['registry-mirrors']).map((m) => m.replace(/\/+$/, '')).filter((m) => hostOf(m) === c.host);
  if (c.plainHttp && !insecure && !isLoopback(c.host)) {
    out.push(fail('docker.insecure-missing', `docker: ${c.host} is not in insecure-registries`, 'dockerd speaks HTTPS to it and fails with "server gave HTTP response to HTTPS client"', [`berth configure docker --registry ${c.host} --insecure   (then: systemctl restart docker)`]));
  }
  if (c.unknownCa && !existsSync(under(c.root, `/etc/docker/certs.d/${c.host}/ca.crt`)) && !insecure) {
    out.push(fail('docker.ca-missing', `docker: no /etc/docker/certs.d/${c.host}/ca.crt`, 'dockerd cannot verify the registry\'s certificate', [`berth configure docker --registry ${c.host} --ca ca.pem`]));
  }
  for (const m of mirrors) {
    if (c.plainHttp && m.startsWith('https://')) {
      out.push(fail('docker.mirror-scheme', `docker: registry-mirrors has ${m}, but ${c.host} speaks plain HTTP`, 'dockerd cannot reach the mirror and pulls from Docker Hub directly', [`in ${file}: "registry-mirrors": ["http://${c.host}"], then systemctl restart docker`]));
    } else {
      out.push(ok('docker.mirror', `docker: registry-mirrors uses ${m} as the mirror of docker.io`));
    }
  }
  const running = await dockerRegistryConfig(c.root, c.timeoutMs);
  if (running) {
    const stale: string[] = [];
    for (const m of mirrors) if (!running.mirrors.includes(m)) stale.push(`registry-mirrors has ${m}, the running dockerd does not (it has ${running.mirrors.join(', ') || 'none'})`);
    if (insecure && !daemonInsecure(running, c)) stale.push(`insecure-registries covers ${c.host}, the running dockerd treats it as secure`);
    if (stale.length > 0) {
      out.push(fail('docker.not-restarted', `docker: ${file} and the running dockerd disagree: ${stale.join('; ')}`,
        'dockerd reads daemon.json when it starts (or on reload): the edit is not in effect', ['systemctl reload docker   (or systemctl restart docker)']));
    }
  }
  if (out.every((f) => f.status === 'ok') && mirrors.length === 0) out.push(ok('docker', `docker: daemon.json and certs.d fit ${c.host}`));
  return out;
}
