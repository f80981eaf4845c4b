// Docker: daemon.json (`insecure-registries`, `registry-mirrors`, `max-concurrent-downloads`,
// merged into what is there) and certs.d/<host>/ (ca.crt, client.cert, client.key), which
// dockerd reads without a restart.
import { join } from 'node:path';
import { readOptional, under, type FileEdit, type Plan } from './plan.js';
import { scheme, trustFiles, type ConfigureOptions } from './options.js';

export const DAEMON_JSON = '/etc/docker/daemon.json';
export const DOCKER_CERTS_D = '/etc/docker/certs.d';

export async function dockerPlan(o: ConfigureOptions): Promise<Plan> {
  if (o.prefix) {
    // dockerd rejects the entry itself ("invalid mirror: path, query, or fragment at end of the URI").
    throw new Error(`Docker's registry-mirrors cannot carry a path, so ${o.registry}/${o.prefix} cannot be a mirror; `
      + `mark the Berth upstream "${o.prefix}" root: true (docker.io pulls then arrive without a prefix and go to it) `
      + `and run: berth configure docker --registry ${o.registry} --mirror-of ${o.mirrorOf ?? 'docker.io'}`);
  }
  const trust = await trustFiles(o);
  const path = under(o.root, DAEMON_JSON);
  const before = await readOptional(path);
  let doc: Record<string, unknown> = {};
  if (before !== undefined && before.trim() !== '') {
    try {
      doc = JSON.parse(before) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${path} is not valid JSON (${(err as Error).message}); fix it first, dockerd will not start with it either`);
    }
  }
  const notes: string[] = [];
  const addTo = (key: string, value: string) => {
    const list = Array.isArray(doc[key]) ? (doc[key] as unknown[]).filter((v): v is string => typeof v === 'string') : [];
    if (!list.includes(value)) list.push(value);
    doc[key] = list;
  };
  if (o.insecure || o.plainHttp) addTo('insecure-registries', o.registry);
  if (o.mirrorOf) {
    if (o.mirrorOf !== 'docker.io') notes.push(`Docker applies registry-mirrors to docker.io only; pulls of ${o.mirrorOf}/... will not use ${o.registry} (containerd and podman can mirror any registry)`);
    else addTo('registry-mirrors', `${scheme(o)}://${o.registry}`);
  }
  if (o.maxConcurrentDownloads) doc['max-concurrent-downloads'] = o.maxConcurrentDownloads;
  const edits: FileEdit[] = [];
  const content = `${JSON.stringify(doc, null, 2)}\n`;
  const restart: string[] = [];
  if (content !== before) {
    edits.push({ path, content });
    restart.push('systemctl restart docker   (daemon.json is read at start; `systemctl reload docker` is enough for insecure-registries and registry-mirrors)');
  }
  const certs = under(o.root, join(DOCKER_CERTS_D, o.registry));
  if (trust.ca) edits.push({ path: join(certs, 'ca.crt'), content: trust.ca });
  if (trust.cert && trust.key) edits.push({ path: join(certs, 'client.cert'), content: trust.cert }, { path: join(certs, 'client.key'), content: trust.key, mode: 0o600 });
  if (o.mirrorOf === 'docker.io') notes.push('Docker sends a mirror the credentials stored for docker.io (https://index.docker.io/v1/), not those of the mirror host');
  return { edits, restart, notes };
}
