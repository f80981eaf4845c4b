// Podman (containers/image): a [[registry]] table in registries.conf (v2 format), with the
// registry as a [[registry.mirror]] of another when asked, and certs.d/<host>/ for TLS files.
// A mirror location may carry a path (containers/image rewrites docker.io/library/x to
// <host>/<prefix>/library/x), which is how podman reaches a Berth upstream by its prefix.
// Running configure again updates the same [[registry]] table: containers/image refuses two
// for one prefix. A v1 file ([registries.insecure] ...) is converted, since one file cannot mix both.
import { join } from 'node:path';
import { readOptional, under, type FileEdit, type Plan } from './plan.js';
import { trustFiles, type ConfigureOptions } from './options.js';
import { isTable, parseToml, stringList, stringifyToml, type TomlTable } from './toml.js';

export const REGISTRIES_CONF = '/etc/containers/registries.conf';
export const CONTAINERS_CERTS_D = '/etc/containers/certs.d';

/** The v1 tables as v2: search -> unqualified-search-registries, insecure/block -> [[registry]]. */
function v1ToV2(doc: TomlTable, notes: string[]): void {
  const v1 = doc.registries;
  if (!isTable(v1)) return;
  delete doc.registries;
  const search = stringList(isTable(v1.search) ? v1.search.registries : undefined);
  if (search.length && doc['unqualified-search-registries'] === undefined) doc['unqualified-search-registries'] = search;
  const registries = Array.isArray(doc.registry) ? doc.registry as TomlTable[] : [];
  const entry = (location: string) => {
    let r = registries.find((x) => x.location === location || x.prefix === location);
    if (!r) registries.push(r = { location });
    return r;
  };
  for (const l of stringList(isTable(v1.insecure) ? v1.insecure.registries : undefined)) entry(l).insecure = true;
  for (const l of stringList(isTable(v1.block) ? v1.block.registries : undefined)) entry(l).blocked = true;
  doc.registry = registries;
  notes.push('registries.conf was in the v1 format ([registries.search/insecure/block]); it is now v2 with the same meaning (containers/image refuses a file that mixes both)');
}

export async function podmanPlan(o: ConfigureOptions): Promise<Plan> {
  const trust = await trustFiles(o);
  const path = under(o.root, REGISTRIES_CONF);
  const before = await readOptional(path);
  const doc = before ? parseToml(before, path) : {};
  const notes: string[] = [];
  v1ToV2(doc, notes);
  const key = o.mirrorOf ?? o.registry;
  const insecure = !!(o.insecure || o.plainHttp);
  const registries = Array.isArray(doc.registry) ? (doc.registry as unknown[]).filter(isTable) : [];
  let entry = registries.find((r) => (r.prefix ?? r.location) === key);
  if (!entry) registries.push(entry = { location: key });
  if (o.mirrorOf) {
    const location = o.prefix ? `${o.registry}/${o.prefix}` : o.registry;
    const others = (Array.isArray(entry.mirror) ? (entry.mirror as unknown[]).filter(isTable) : []).filter((m) => m.location !== location);
    // Berth's mirror first; mirrors that were there stay after it, in their order.
    entry.mirror = [{ location, insecure }, ...others];
    if (others.length) notes.push(`the [[registry]] for ${key} keeps its other mirrors after ${location}: ${others.map((m) => String(m.location)).join(', ')}`);
  } else {
    entry.insecure = insecure;
  }
  doc.registry = registries;
  const content = stringifyToml(doc);
  const edits: FileEdit[] = [{ path, content }];
  const certs = under(o.root, join(CONTAINERS_CERTS_D, o.registry));
  if (trust.ca) edits.push({ path: join(certs, 'ca.crt'), content: trust.ca });
  if (trust.cert && trust.key) edits.push({ path: join(certs, 'client.cert'), content: trust.cert }, { path: join(certs, 'client.key'), content: trust.key, mode: 0o600 });
  if (doc['unqualified-search-registries'] === undefined && o.mirrorOf) notes.push('short names (podman pull alpine) also need unqualified-search-registries = ["docker.io"] in registries.conf');
  return { edits, restart: ['nothing to restart: podman reads registries.conf on every command'], notes };
}
