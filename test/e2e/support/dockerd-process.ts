// A private Docker engine (Debian's docker.io) for one test file: its own data-root, exec-root,
// pidfile, socket, daemon.json and CLI config in a directory the caller owns; no iptables, no
// bridge, vfs storage, so it runs unprivileged by the host's network and storage setup. It
// starts its own managed containerd under the exec-root and stops it on SIGTERM. The client
// clients tests (e2e) describe daemon.json by options; the tools tests pass the one
// `berth configure docker` wrote.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanEnv, stopChild, tail, track } from './env.js';
import { mustRun, runCommand, type CommandResult } from './run.js';

/** Debian's CLI, the same version as its daemon, when installed; else whatever is on PATH. */
export const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

export interface DockerdOptions {
  dir: string;
  /** An existing daemon.json to run with as it is; insecureRegistries and registryMirrors are then not used. */
  daemonJson?: string;
  /** host:port entries for daemon.json `insecure-registries`. */
  insecureRegistries?: string[];
  /** URLs for daemon.json `registry-mirrors` (docker.io pulls go there). */
  registryMirrors?: string[];
  /**
   * host:port -> CA certificate file to trust for that registry. dockerd reads these only from
   * /etc/docker/certs.d/HOST:PORT/ (no flag moves it): written there, removed on stop.
   */
  trustedCas?: Record<string, string>;
  /** Added to dockerd's environment, e.g. HTTPS_PROXY so a registry fallback stays on loopback. */
  env?: Record<string, string>;
}

const CERTS_D = '/etc/docker/certs.d';
const madeCertDirs = new Set<string>();
process.once('exit', () => {
  for (const d of madeCertDirs) rmSync(d, { recursive: true, force: true });
});

export interface DockerdProcess {
  socket: string;
  docker(args: string[], timeoutMs?: number): Promise<CommandResult>;
  mustDocker(args: string[], timeoutMs?: number): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startDockerd(options: DockerdOptions): Promise<DockerdProcess> {
  const { dir } = options;
  await mkdir(join(dir, 'cli'), { recursive: true });
  const socket = join(dir, 'docker.sock');
  const daemonJson = options.daemonJson ?? join(dir, 'daemon.json');
  if (options.daemonJson === undefined) {
    await writeFile(daemonJson, JSON.stringify({
      'insecure-registries': options.insecureRegistries ?? [],
      'registry-mirrors': options.registryMirrors ?? [],
    }));
  }
  const certDirs: string[] = [];
  for (const [hostPort, ca] of Object.entries(options.trustedCas ?? {})) {
    const d = join(CERTS_D, hostPort);
    if (existsSync(d)) throw new Error(`${d} exists already: refusing to overwrite another registry's trust`);
    await mkdir(d, { recursive: true });
    madeCertDirs.add(d);
    certDirs.push(d);
    await copyFile(ca, join(d, 'ca.crt'));
  }
  const removeCertDirs = async () => {
    for (const d of certDirs) {
      await rm(d, { recursive: true, force: true });
      madeCertDirs.delete(d);
    }
  };
  const child: ChildProcess = track(spawn('dockerd', [
    '--config-file', daemonJson, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${socket}`,
    '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs',
  ], { env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = tail(16_000);
  child.stdout?.on('data', (c: Buffer) => log.push(c));
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  child.on('error', (err) => log.push(`spawn error: ${err.message}\n`));

  const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'cli') };
  const docker = (args: string[], timeoutMs?: number) => runCommand(DOCKER_CLI, args, { env, timeoutMs });
  // A shared 2-core machine can take over a minute to bring dockerd and its containerd up.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await removeCertDirs();
      throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}) on start:\n${log.text()}`);
    }
    if ((await docker(['version', '--format', '{{.Server.Version}}'], 5000)).code === 0) break;
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      await removeCertDirs();
      throw new Error(`dockerd did not answer on ${socket} within 90 s:\n${log.text()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    socket,
    docker,
    mustDocker: (args, timeoutMs) => mustRun(DOCKER_CLI, args, { env, timeoutMs }),
    logs: () => log.text(),
    stop: async () => {
      await stopChild(child, 'SIGTERM', 20_000);
      await unmountNetns(join(dir, 'exec', 'netns'));
      await removeCertDirs();
    },
  };
}

/**
 * A daemon that ran a container bind-mounts network namespaces under its exec-root and does not
 * always unmount them when it stops; left mounted, they make removing the directory fail (EBUSY).
 */
async function unmountNetns(netnsDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(netnsDir);
  } catch {
    return;
  }
  for (const name of entries) await runCommand('umount', ['-l', join(netnsDir, name)]);
}
