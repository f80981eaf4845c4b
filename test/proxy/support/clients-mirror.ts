// The lab for real clients pulling through Berth as a mirror: Debian's docker-registry with
// htpasswd auth standing in for Docker Hub, the counting upstream (test/fakes) in front of it (so a test can
// tell whether a pull touched the upstream, and stop the upstream), and `berth serve` with one
// upstream "dockerhub" that answers for ?ns=docker.io, under the `dockerhub/` prefix, and as the
// root upstream (dockerd's registry-mirrors sends neither).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BERTH_BIN, cleanEnv, freePort, stopChild } from '../../e2e/support/env.js';
import { startServerProcess, type ServerProcess } from '../../support/processes.js';
import { copy } from '../../e2e/support/skopeo.js';
import { CountingProxy } from '../../fakes/counting-upstream.js';

export const UPSTREAM_USER = 'mirror';
export const UPSTREAM_PASSWORD = 'mirror-secret-7';
export const UPSTREAM_NAME = 'dockerhub';

export interface CountingUpstream {
  /** 127.0.0.1:PORT of the forwarder, the address Berth is given. */
  host: string;
  /** Requests that reached the upstream so far, as "METHOD /path" (a fresh copy each read). */
  readonly requests: string[];
  /** Copies an image into the upstream (through the forwarder, not counted). */
  seed(src: string, repository: string): Promise<void>;
  /** Stops the registry and the forwarder: connections are refused from now on. */
  stop(): Promise<void>;
}

/** docker-registry on a private port with htpasswd auth, behind a forwarder that counts. */
export async function startCountingUpstream(dir: string): Promise<CountingUpstream> {
  const htpasswd = join(dir, 'htpasswd');
  execFileSync('htpasswd', ['-B', '-b', '-c', htpasswd, UPSTREAM_USER, UPSTREAM_PASSWORD], { stdio: 'pipe' });
  const port = await freePort();
  const config = join(dir, 'upstream.yml');
  await writeFile(config, [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'upstream-data'))}}, delete: {enabled: true}}`,
    `http: {addr: "127.0.0.1:${port}"}`,
    `auth: {htpasswd: {realm: upstream-realm, path: ${JSON.stringify(htpasswd)}}}`,
    '',
  ].join('\n'));
  const registry = await startAuthenticated('docker-registry', ['serve', config], cleanEnv(), port, 'docker-registry');
  const forwarder = await CountingProxy.start(`127.0.0.1:${port}`);
  const host = forwarder.host;
  return {
    host,
    get requests() {
      return forwarder.requests();
    },
    async seed(src, repository) {
      forwarder.recording = false;
      try {
        await copy(src, `docker://${host}/${repository}`, { extra: ['--dest-creds', `${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`] });
      } finally {
        forwarder.recording = true;
      }
    },
    async stop() {
      await forwarder.close();
      await registry.stop();
    },
  };
}

export interface AccessLine {
  method: string;
  url: string;
  status: number;
}

export interface MirrorBerth extends Omit<ServerProcess, 'child'> {
  /** Its config.yml, for `berth user|project -c` (the same metadata database). */
  config: string;
  /** Every request Berth's access log has recorded so far, in order. */
  access(): AccessLine[];
  stop(): Promise<void>;
}

/**
 * `berth serve` with the "dockerhub" upstream pointing at `upstreamHost`, with its credentials;
 * `extra` lines go into the upstream entry, `topLevel` lines (e.g. an auth section) at the top.
 * With `authenticated`, it is ready when /v2/ asks for credentials.
 */
export async function startMirrorBerth(dir: string, upstreamHost: string, extra: string[] = [], topLevel: string[] = [], authenticated = false): Promise<MirrorBerth> {
  const port = await freePort();
  const config = join(dir, 'berth.yml');
  await writeFile(config, [
    'version: 0.1',
    'log: {level: info, accesslog: {disabled: false}}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'berth-data'))}}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}}`,
    `http: {addr: "127.0.0.1:${port}"}`,
    ...topLevel,
    'proxy:',
    '  upstreams:',
    `    - name: ${UPSTREAM_NAME}`,
    `      remoteurl: http://${upstreamHost}`,
    '      namespaces: [docker.io]',
    '      root: true',
    `      username: ${UPSTREAM_USER}`,
    `      password: ${UPSTREAM_PASSWORD}`,
    '      timeout: 5s',
    ...extra.map((line) => `      ${line}`),
    '',
  ].join('\n'));
  const args = [BERTH_BIN, 'serve', config];
  const server = authenticated
    ? await startAuthenticated(process.execPath, args, cleanEnv(), port, 'berth (mirror)')
    : await startServerProcess({ label: 'berth (mirror)', command: process.execPath, args, env: cleanEnv(), port });
  // The whole access log (server.logs() keeps only a tail), to tell which pulls reached Berth.
  const access: AccessLine[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as { msg?: string; method?: string; url?: string; status?: number };
        if (entry.msg === 'access' && entry.url) access.push({ method: entry.method ?? '', url: entry.url, status: entry.status ?? 0 });
      } catch {
        // not a JSON log line
      }
    }
  };
  server.child.stdout?.on('data', collect);
  server.child.stderr?.on('data', collect);
  return { config, host: server.host, url: server.url, logs: server.logs, access: () => [...access], stop: () => stopChild(server.child) };
}

/** A server whose /v2/ wants credentials: ready when it answers 401. */
async function startAuthenticated(command: string, args: string[], env: NodeJS.ProcessEnv, port: number, label: string): Promise<ServerProcess & { stop(): Promise<void> }> {
  const server = await startServerProcess({ label, command, args, env, port, readyStatus: 401 });
  return { ...server, stop: () => stopChild(server.child) };
}

/** Requests for `repository` (its upstream name) that reached the upstream. */
export function upstreamHits(upstream: CountingUpstream, repository: string): string[] {
  return upstream.requests.filter((r) => r.includes(`/v2/${repository}/`));
}

/** A first pull through the mirror: config and layer came from the upstream, each exactly once. */
export function assertFetchedOnce(upstream: CountingUpstream, repository = 'library/tiny'): void {
  const hits = upstreamHits(upstream, repository);
  const blobGets = hits.filter((h) => h.startsWith(`GET /v2/${repository}/blobs/`));
  assert.ok(blobGets.length >= 2, `config and layer came from the upstream: ${hits.join(', ')}`);
  assert.equal(new Set(blobGets).size, blobGets.length, `each blob fetched from the upstream once: ${blobGets.join(', ')}`);
}

/**
 * Marks where the upstream's requests and Berth's access log stand before a repeated pull; the
 * returned check asserts the pull fetched config and layer from Berth (under `localRepository`)
 * and sent nothing upstream.
 */
export function markRepeatedPull(upstream: CountingUpstream, berth: MirrorBerth): (localRepository: string) => void {
  const before = upstream.requests.length;
  const served = berth.access().length;
  return (localRepository) => {
    assert.deepEqual(upstream.requests.slice(before), [], 'the upstream saw no request');
    const seen = berth.access().slice(served);
    const blobs = seen.filter((a) => a.method === 'GET' && a.url.startsWith(`/v2/${localRepository}/blobs/`) && a.status === 200);
    assert.ok(blobs.length >= 2, `the client fetched config and layer from Berth again: ${JSON.stringify(seen)}`);
  };
}
