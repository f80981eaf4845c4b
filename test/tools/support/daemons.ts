// Private containerd and dockerd daemons for client-tool tests: each with its own root, state,
// socket and pid file under a temp dir (as ../shared/lab/client-*.sh run them), stopped by pid.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stopChild, tail, track } from '../../e2e/support/env.js';

export interface Daemon {
  socket: string;
  child: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function waitFor(check: () => Promise<boolean>, child: ChildProcess, what: string, logs: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode})\n${logs()}`);
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms\n${logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function spawnLogged(cmd: string, args: string[]): { child: ChildProcess; logs: () => string } {
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = tail(20_000);
  child.stdout?.on('data', (c: Buffer) => log.push(c));
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  return { child, logs: () => log.text() };
}

export async function startContainerd(dir: string): Promise<Daemon & { ctr(args: string[]): ReturnType<typeof run> }> {
  const socket = join(dir, 'containerd.sock');
  await mkdir(join(dir, 'root'), { recursive: true });
  const config = join(dir, 'daemon-config.toml');
  await writeFile(config, [
    'version = 2',
    `root = ${JSON.stringify(join(dir, 'root'))}`,
    `state = ${JSON.stringify(join(dir, 'state'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",',
    '  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt"]',
    '[grpc]', `  address = ${JSON.stringify(socket)}`,
    '[ttrpc]', `  address = ${JSON.stringify(`${socket}.ttrpc`)}`,
    '[metrics]', '  address = ""', '',
  ].join('\n'));
  const { child, logs } = spawnLogged('containerd', ['--config', config]);
  const ctr = (args: string[]) => run('ctr', ['-a', socket, '-n', 'berth-test', ...args]);
  await waitFor(async () => existsSync(socket) && (await ctr(['version'])).code === 0, child, 'containerd', logs);
  return { socket, child, logs, ctr, stop: () => stopChild(child) };
}

export async function startDockerd(dir: string, daemonJson: string): Promise<Daemon & { docker(args: string[]): ReturnType<typeof run> }> {
  const socket = join(dir, 'docker.sock');
  const { child, logs } = spawnLogged('dockerd', [
    '--config-file', daemonJson, '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'),
    '-H', `unix://${socket}`, '--pidfile', join(dir, 'dockerd.pid'),
    '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs',
  ]);
  // Debian's CLI matches the daemon's API version; another docker on PATH may not.
  const cli = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'cli') };
  const docker = (args: string[]) => run(cli, args, env);
  await waitFor(async () => existsSync(socket) && (await docker(['version'])).code === 0, child, 'dockerd', logs, 90_000);
  return { socket, child, logs, docker, stop: () => stopChild(child, 'SIGTERM', 20_000) };
}
