// The real `berth serve` binary as a child process on 127.0.0.1, configured only through
// REGISTRY_* variables, with filesystem storage in a directory the caller owns.
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { BERTH_BIN, cleanEnv, onFreePort, stopChild } from './env.js';
import { startServerProcess } from './server-process.js';

export interface BerthOptions {
  /** Storage root (filesystem driver). */
  root: string;
  deleteEnabled?: boolean;
  /** Extra REGISTRY_* variables. */
  env?: Record<string, string>;
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
  const { child, host, url, logs } = await startServerProcess({ label: 'berth', command: process.execPath, args: [BERTH_BIN, 'serve'], env, port });
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
