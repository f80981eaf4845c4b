// containerd: a hosts.toml in certs.d/<host>/ (or certs.d/<upstream>/ for a mirror), and
// `config_path` in config.toml so the CRI plugin reads certs.d at all (the classic reason a
// hosts.toml "does nothing"). Both the 1.x (`io.containerd.grpc.v1.cri`, config version 2)
// and the 2.x (`io.containerd.cri.v1.images`, version 3) sections are handled.
import { join } from 'node:path';
import { readOptional, under, type FileEdit, type Plan } from './plan.js';
import { scheme, trustFiles, type ConfigureOptions } from './options.js';

export const CERTS_D = '/etc/containerd/certs.d';
export const CONFIG_TOML = '/etc/containerd/config.toml';

const UPSTREAMS: Record<string, string> = { 'docker.io': 'https://registry-1.docker.io' };

function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** The CRI section that holds `config_path` and `max_concurrent_downloads` for a config version. */
export function criSections(configText: string | undefined): { registry: string; images: string; version: number } {
  const version = Number(/^\s*version\s*=\s*(\d+)/m.exec(configText ?? '')?.[1] ?? 2);
  return version >= 3
    ? { version, registry: '[plugins."io.containerd.cri.v1.images".registry]', images: '[plugins."io.containerd.cri.v1.images"]' }
    : { version, registry: '[plugins."io.containerd.grpc.v1.cri".registry]', images: '[plugins."io.containerd.grpc.v1.cri"]' };
}

/** Sets `key = value` inside `section` of a TOML text, adding the section when it is missing. */
export function setTomlKey(text: string, section: string, key: string, value: string, overwrite: boolean): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === section);
  if (start < 0) return `${text.replace(/\n*$/, '\n')}\n${section}\n  ${key} = ${value}\n`;
  let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  const existing = lines.findIndex((l, i) => i > start && i < end && new RegExp(`^\\s*${key}\\s*=`).test(l));
  if (existing >= 0) {
    if (overwrite) lines[existing] = `  ${key} = ${value}`;
    return lines.join('\n');
  }
  lines.splice(start + 1, 0, `  ${key} = ${value}`);
  return lines.join('\n');
}

export async function containerdPlan(o: ConfigureOptions): Promise<Plan> {
  const trust = await trustFiles(o);
  const namespace = o.mirrorOf ?? o.registry;
  const dir = under(o.root, join(CERTS_D, namespace));
  const edits: FileEdit[] = [];
  const lines: string[] = [];
  const upstream = o.mirrorOf ? UPSTREAMS[o.mirrorOf] ?? `https://${o.mirrorOf}` : `${scheme(o)}://${o.registry}`;
  lines.push(`# Written by berth configure containerd.`, `server = ${tomlString(upstream)}`, '');
  lines.push(`[host.${tomlString(`${scheme(o)}://${o.registry}`)}]`);
  lines.push(`  capabilities = ${o.mirrorOf ? '["pull", "resolve"]' : '["pull", "resolve", "push"]'}`);
  if (o.insecure && !o.plainHttp) lines.push('  skip_verify = true');
  if (trust.ca) {
    edits.push({ path: join(dir, 'ca.crt'), content: trust.ca });
    // Relative paths are resolved against the hosts.toml directory, so this works under any --root.
    lines.push('  ca = "ca.crt"');
  }
  if (trust.cert && trust.key) {
    edits.push({ path: join(dir, 'client.cert'), content: trust.cert }, { path: join(dir, 'client.key'), content: trust.key, mode: 0o600 });
    lines.push('  client = [["client.cert", "client.key"]]');
  }
  edits.push({ path: join(dir, 'hosts.toml'), content: `${lines.join('\n')}\n` });

  const configPath = under(o.root, CONFIG_TOML);
  const before = await readOptional(configPath);
  const sections = criSections(before);
  let config = before ?? `version = ${sections.version}\n`;
  const notes: string[] = [];
  const existing = /^\s*config_path\s*=\s*"([^"]*)"/m.exec(config)?.[1];
  if (existing === undefined || existing === '') {
    config = setTomlKey(config, sections.registry, 'config_path', tomlString(CERTS_D), true);
  } else if (existing !== CERTS_D) {
    notes.push(`config.toml already sets config_path = "${existing}"; the hosts.toml was written to ${CERTS_D}: move it under ${existing}/${namespace}/ or change config_path`);
  }
  if (o.maxConcurrentDownloads) config = setTomlKey(config, sections.images, 'max_concurrent_downloads', String(o.maxConcurrentDownloads), true);
  const restart: string[] = [];
  if (config !== before) {
    edits.push({ path: configPath, content: config });
    restart.push('systemctl restart containerd   (config.toml changed; hosts.toml files are read on every pull)');
  }
  if (o.prefix && o.mirrorOf) {
    notes.push(`hosts.toml names ${o.registry} without /${o.prefix}: containerd sends ?ns=${o.mirrorOf} with every mirror request, `
      + `and Berth routes it to the upstream whose namespaces list ${o.mirrorOf} (give "${o.prefix}" namespaces: [${o.mirrorOf}])`);
  }
  notes.push(`ctr reads hosts.toml only when asked: ctr images pull --hosts-dir ${CERTS_D} ${o.mirrorOf ? `${o.mirrorOf}/library/alpine:latest` : `${o.registry}/IMAGE`}`);
  return { edits, restart, notes };
}
