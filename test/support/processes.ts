// Registry servers as child processes (Berth's `berth serve`, Debian's docker-registry, ...):
// started on 127.0.0.1:PORT, the tail of their output kept for failure messages, ready when
// /v2/ answers (200, or 401 for one that wants credentials); a process that never answers is
// killed before the error is thrown. One-shot commands run through test/support/cli.ts instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { BERTH_BIN, cleanEnv, onFreePort, stopChild, tail, track } from '../e2e/support/env.js';

export interface ServerProcess {
  child: ChildProcess;
  host: string;
  url: string;
  logs(): string;
}

export interface ServerProcessOptions {
  /** Names the process in failure messages. */
  label: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  timeoutMs?: number;
  /** The /v2/ status that means "up": 200, or 401 for a server that wants credentials. */
  readyStatus?: number;
}

export async function startServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  const child = track(spawn(o.command, o.args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = tail();
  child.stdout?.on('data', (c: Buffer) => log.push(c));
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  child.on('error', (err) => log.push(`spawn error: ${err.message}\n`));
  const host = `127.0.0.1:${o.port}`;
  const url = `http://${host}`;
  try {
    await waitForStatus(`${url}/v2/`, o.readyStatus ?? 200, child, () => `${o.label} logs:\n${log.text()}`, o.timeoutMs);
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
  return { child, host, url, logs: () => log.text() };
}

/** Polls `url` until it answers `status`; fails early when the process exits. */
async function waitForStatus(url: string, status: number, child: ChildProcess, describeFailure: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${url} answered\n${describeFailure()}`);
    }
    const got = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(async (r) => { await r.arrayBuffer(); return r.status; }, () => 0);
    if (got === status) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms\n${describeFailure()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface BerthOptions {
  /** Storage root (filesystem driver). */
  root: string;
  deleteEnabled?: boolean;
  /** Extra REGISTRY_* variables. */
  env?: Record<string, string>;
  /** The /v2/ status that means "up": 401 with authentication configured. */
  readyStatus?: number;
}

export interface BerthProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** 127.0.0.1:41234, for skopeo's docker:// references. */
  host: string;
  pid: number;
  root: string;
  child: ChildProcess;
  /** Recent stderr/stdout (logs), for failure messages. */
  logs(): string;
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): Promise<number>;
  /** Current resident set size (VmRSS), in bytes. */
  rss(): Promise<number>;
  /** SIGTERM (drain) by default; SIGKILL to simulate a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startBerth(options: BerthOptions): Promise<BerthProcess> {
  return onFreePort((port) => startOn(port, options), (err) => /EADDRINUSE/.test(String(err)));
}

async function startOn(port: number, options: BerthOptions): Promise<BerthProcess> {
  const env = cleanEnv({
    REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: options.root,
    REGISTRY_STORAGE_DELETE_ENABLED: String(options.deleteEnabled ?? true),
    REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED: 'false',
    REGISTRY_LOG_LEVEL: process.env.BERTH_TEST_LOG_LEVEL ?? 'warn',
    REGISTRY_LOG_ACCESSLOG_DISABLED: 'true',
    ...options.env,
  });
  const { child, host, url, logs } = await startServerProcess({ label: 'berth', command: process.execPath, args: [BERTH_BIN, 'serve'], env, port, ...(options.readyStatus ? { readyStatus: options.readyStatus } : {}) });
  const pid = child.pid!;
  return {
    url, host, pid, root: options.root, child, logs,
    peakRss: () => procStatusBytes(pid, 'VmHWM'),
    rss: () => procStatusBytes(pid, 'VmRSS'),
    stop: (signal: NodeJS.Signals = 'SIGTERM') => stopChild(child, signal),
  };
}

/** A `kB` field of /proc/<pid>/status, in bytes. */
export async function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}
