// A private containerd daemon for one test file: its own root, state, gRPC/ttrpc sockets and
// config in a directory the caller owns, the native snapshotter (plain directories, no mounts),
// the CRI plugin and the other snapshotters off. `ctr` talks to it through its socket only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanEnv, stopChild, tail, track } from './env.js';
import { mustRun, runCommand, type CommandResult } from './run.js';

export interface ContainerdProcess {
  socket: string;
  /** Runs `ctr -a SOCKET -n NAMESPACE ARGS` and returns its result (any exit code). */
  ctr(args: string[], timeoutMs?: number): Promise<CommandResult>;
  /** The same, failing unless ctr exits 0; returns stdout. */
  mustCtr(args: string[], timeoutMs?: number): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startContainerd(dir: string, namespace = 'berth-e2e'): Promise<ContainerdProcess> {
  await mkdir(join(dir, 'root'), { recursive: true });
  await mkdir(join(dir, 'state'), { recursive: true });
  const socket = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  await writeFile(config, [
    'version = 2',
    `root = ${JSON.stringify(join(dir, 'root'))}`,
    `state = ${JSON.stringify(join(dir, 'state'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",',
    '  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",',
    '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt"]',
    '[grpc]',
    `  address = ${JSON.stringify(socket)}`,
    '[ttrpc]',
    `  address = ${JSON.stringify(`${socket}.ttrpc`)}`,
    '[debug]',
    `  address = ${JSON.stringify(`${socket}.debug`)}`,
    '[metrics]',
    '  address = ""',
    '',
  ].join('\n'));
  const child: ChildProcess = track(spawn('containerd', ['--config', config], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = tail();
  child.stdout?.on('data', (c: Buffer) => log.push(c));
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  child.on('error', (err) => log.push(`spawn error: ${err.message}\n`));

  const ctr = (args: string[], timeoutMs?: number) => runCommand('ctr', ['-a', socket, '-n', namespace, ...args], { timeoutMs });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`containerd exited (${child.exitCode ?? child.signalCode}) on start:\n${log.text()}`);
    }
    if ((await ctr(['version'], 5000)).code === 0) break;
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      throw new Error(`containerd did not answer on ${socket} within 30 s:\n${log.text()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    socket,
    ctr,
    mustCtr: (args, timeoutMs) => mustRun('ctr', ['-a', socket, '-n', namespace, ...args], { timeoutMs }),
    logs: () => log.text(),
    stop: () => stopChild(child, 'SIGTERM'),
  };
}
