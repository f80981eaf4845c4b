// Starts containerd with a given config.toml (its paths moved into a private directory) and the
// CRI plugin on, and reports whether CRI loaded: what `ctr plugins ls` says about it.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'smol-toml';
import { cleanEnv, stopChild, tail, track } from '../../e2e/support/env.js';
import { runCommand } from '../../e2e/support/run.js';

export async function criPluginStatus(dir: string, configToml: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'c.sock');
  const doc = parse(configToml) as Record<string, any>;
  Object.assign(doc, {
    root: join(dir, 'root'), state: join(dir, 'state'),
    disabled_plugins: ['io.containerd.snapshotter.v1.btrfs', 'io.containerd.snapshotter.v1.zfs', 'io.containerd.snapshotter.v1.aufs', 'io.containerd.snapshotter.v1.devmapper', 'io.containerd.internal.v1.opt'],
    grpc: { address: socket }, ttrpc: { address: `${socket}.ttrpc` }, debug: { address: `${socket}.debug` }, metrics: { address: '' },
  });
  const cri = (doc.plugins ??= {})['io.containerd.grpc.v1.cri'] ??= {};
  // What a container runtime needs and a test machine may not have; none of it is about registries.
  Object.assign(cri, { disable_cgroup: true, disable_apparmor: true, restrict_oom_score_adj: true });
  const config = join(dir, 'config.toml');
  await writeFile(config, stringify(doc));
  const child = track(spawn('containerd', ['--config', config], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = tail();
  child.stdout?.on('data', (c: Buffer) => log.push(c));
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`containerd exited on start:\n${log.text()}`);
      const r = await runCommand('ctr', ['-a', socket, 'plugins', 'ls'], { timeoutMs: 5000 });
      const line = r.code === 0 ? r.stdout.split('\n').find((l) => /^io\.containerd\.grpc\.v1\s+cri\s/.test(l)) : undefined;
      if (line) return line.trim().split(/\s+/).pop()!;
      if (Date.now() > deadline) throw new Error(`containerd did not list its plugins within 30 s:\n${log.text()}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  } finally {
    await stopChild(child, 'SIGTERM');
  }
}
