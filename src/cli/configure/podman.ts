// Podman (containers/image): a [[registry]] block in registries.conf (v2 format), with the
// registry as a [[registry.mirror]] of another when asked, and certs.d/<host>/ for TLS files.
// A mirror location may carry a path (containers/image rewrites docker.io/library/x to
// <host>/<prefix>/library/x), which is how podman reaches a Berth upstream by its prefix.
// The block sits between berth markers so running configure again replaces it.
import { join } from 'node:path';
import { readOptional, under, type FileEdit, type Plan } from './plan.js';
import { trustFiles, type ConfigureOptions } from './options.js';

export const REGISTRIES_CONF = '/etc/containers/registries.conf';
export const CONTAINERS_CERTS_D = '/etc/containers/certs.d';

export async function podmanPlan(o: ConfigureOptions): Promise<Plan> {
  const trust = await trustFiles(o);
  const path = under(o.root, REGISTRIES_CONF);
  const before = (await readOptional(path)) ?? '';
  const key = o.mirrorOf ?? o.registry;
  const begin = `# berth: begin ${key}`;
  const end = `# berth: end ${key}`;
  const insecure = !!(o.insecure || o.plainHttp);
  const block = o.mirrorOf
    ? [begin, '[[registry]]', `location = ${JSON.stringify(o.mirrorOf)}`, '', '[[registry.mirror]]', `location = ${JSON.stringify(o.prefix ? `${o.registry}/${o.prefix}` : o.registry)}`, `insecure = ${insecure}`, end]
    : [begin, '[[registry]]', `location = ${JSON.stringify(o.registry)}`, `insecure = ${insecure}`, end];
  const re = new RegExp(`${begin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s\\S]*?${end.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n?`);
  const notes: string[] = [];
  if (!re.test(before) && new RegExp(`^\\s*location\\s*=\\s*"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`, 'm').test(before)) {
    notes.push(`${path} already has a [[registry]] for ${key}; containers/image refuses duplicates, so merge the two blocks by hand`);
  }
  const content = re.test(before) ? before.replace(re, `${block.join('\n')}\n`) : `${before.replace(/\n*$/, before ? '\n\n' : '')}${block.join('\n')}\n`;
  const edits: FileEdit[] = [{ path, content }];
  const certs = under(o.root, join(CONTAINERS_CERTS_D, o.registry));
  if (trust.ca) edits.push({ path: join(certs, 'ca.crt'), content: trust.ca });
  if (trust.cert && trust.key) edits.push({ path: join(certs, 'client.cert'), content: trust.cert }, { path: join(certs, 'client.key'), content: trust.key, mode: 0o600 });
  if (!/unqualified-search-registries/.test(before) && o.mirrorOf) notes.push('short names (podman pull alpine) also need unqualified-search-registries = ["docker.io"] in registries.conf');
  return { edits, restart: ['nothing to restart: podman reads registries.conf on every command'], notes };
}
