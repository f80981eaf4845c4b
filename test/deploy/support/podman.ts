// Rootful podman for one test file: its own storage (vfs) in a directory the caller owns,
// cgroupfs and no events journal, so nothing depends on the host's systemd or on images other
// tests left in /var/lib/containers. `runArgs` are what every `podman run` here adds: limits
// below the host's hard limits (podman otherwise raises them, which needs CAP_SYS_RESOURCE).
// Locks are files under its own root: podman's default shared-memory locks are one segment for
// every podman on the machine whatever its --root, so two test files' podmans (or a reset in one)
// would take each other's lock numbers.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun, runCommand, type CommandResult } from '../../e2e/support/run.js';

export interface Podman {
  /** Global flags: storage, cgroup manager, events backend (also for podman-compose --podman-args). */
  globalArgs: string[];
  /** CONTAINERS_CONF for this podman (also for podman-compose, which runs podman). */
  env: Record<string, string>;
  runArgs: string[];
  run(args: string[], timeoutMs?: number): Promise<CommandResult>;
  must(args: string[], timeoutMs?: number): Promise<string>;
}

export async function podmanIn(dir: string): Promise<Podman> {
  await mkdir(dir, { recursive: true });
  const env = { CONTAINERS_CONF: join(dir, 'containers.conf') };
  await writeFile(env.CONTAINERS_CONF, '[engine]\nlock_type = "file"\n');
  const globalArgs = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
  const runArgs = ['--ulimit', 'nofile=8192:8192', '--ulimit', 'nproc=4096:4096'];
  return {
    globalArgs, runArgs, env,
    run: (args, timeoutMs = 300_000) => runCommand('podman', [...globalArgs, ...args], { env, timeoutMs }),
    must: (args, timeoutMs = 300_000) => mustRun('podman', [...globalArgs, ...args], { env, timeoutMs }),
  };
}
