// Podman (containers/image): registries.conf in either format (v1 [registries.insecure], v2
// [[registry]] with [[registry.mirror]]), the drop-ins in registries.conf.d/, and the rootless
// user's own files, which replace the system registries.conf when present.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { under } from '../configure/plan.js';
import { isTable, parseToml, stringList, type TomlTable } from '../configure/toml.js';
import { hostOf, read, type LocalContext } from './context.js';
import { fail, ok, skip, type Finding } from './finding.js';

/** The files containers/image reads, in order (later drop-ins override earlier tables). */
async function configFiles(root: string): Promise<string[]> {
  const home = process.env.HOME;
  const user = home ? join(home, '.config/containers') : undefined;
  const main = user && existsSync(under(root, join(user, 'registries.conf'))) ? join(user, 'registries.conf') : '/etc/containers/registries.conf';
  const files = [main];
  for (const dir of ['/etc/containers/registries.conf.d', ...(user ? [join(user, 'registries.conf.d')] : [])]) {
    const names = (await readdir(under(root, dir)).catch(() => [] as string[])).filter((n) => n.endsWith('.conf')).sort();
    files.push(...names.map((n) => join(dir, n)));
  }
  return files;
}

interface Registry { prefix: string; insecure?: boolean; mirrors: Array<{ location: string; insecure: boolean }>; file: string }

export async function checkPodman(c: LocalContext): Promise<Finding[]> {
  const registries = new Map<string, Registry>();
  const read_: string[] = [];
  for (const file of await configFiles(c.root)) {
    const text = await read(under(c.root, file));
    if (text === undefined) continue;
    read_.push(file);
    let doc: TomlTable;
    try {
      doc = parseToml(text, file);
    } catch (err) {
      return [fail('podman.registries-conf', `podman: ${(err as Error).message}`, 'podman refuses to run with it', [`fix ${file}`])];
    }
    const v1 = isTable(doc.registries) ? doc.registries : undefined;
    for (const location of stringList(isTable(v1?.insecure) ? v1.insecure.registries : undefined)) {
      registries.set(location, { prefix: location, insecure: true, mirrors: [], file });
    }
    for (const r of Array.isArray(doc.registry) ? (doc.registry as unknown[]).filter(isTable) : []) {
      const prefix = String(r.prefix ?? r.location ?? '');
      const mirrors = (Array.isArray(r.mirror) ? (r.mirror as unknown[]).filter(isTable) : [])
        .map((m) => ({ location: String(m.location ?? ''), insecure: m.insecure === true }));
      registries.set(prefix, { prefix, ...(typeof r.insecure === 'boolean' ? { insecure: r.insecure } : {}), mirrors, file });
    }
  }
  if (read_.length === 0) return [skip('podman', 'podman: no registries.conf: not configured on this machine')];
  const out: Finding[] = [];
  const own = [...registries.values()].find((r) => hostOf(r.prefix) === c.host && r.prefix.split('/').length === 1) ?? registries.get(c.host);
  const asMirror = [...registries.values()].flatMap((r) => r.mirrors.filter((m) => hostOf(m.location) === c.host).map((m) => ({ of: r, m })));
  for (const { of, m } of asMirror) {
    if (c.plainHttp && !m.insecure) {
      out.push(fail('podman.insecure-missing', `podman: ${of.file} names ${m.location} as a mirror of ${of.prefix} without insecure = true`, 'podman speaks HTTPS to it and falls back to the upstream', [`in ${of.file} under the [[registry.mirror]] location = "${m.location}": insecure = true`]));
    } else {
      out.push(ok('podman.mirror', `podman: ${of.file} uses ${m.location} as a mirror of ${of.prefix}`));
    }
  }
  if (c.plainHttp && own?.insecure !== true && asMirror.length === 0) {
    return [fail('podman.insecure-missing', `podman: registries.conf does not mark ${c.host} insecure (read: ${read_.join(', ')})`, 'podman speaks HTTPS to it', [`berth configure podman --registry ${c.host} --insecure`])];
  }
  if (c.unknownCa && !existsSync(under(c.root, `/etc/containers/certs.d/${c.host}/ca.crt`))) {
    return [...out, fail('podman.ca-missing', `podman: no /etc/containers/certs.d/${c.host}/ca.crt`, 'podman cannot verify the registry\'s certificate', [`berth configure podman --registry ${c.host} --ca ca.pem`])];
  }
  if (out.length === 0) out.push(ok('podman', `podman: registries.conf fits ${c.host}`));
  return out;
}
