// Runs a client command line (ctr, docker, podman, buildah, openssl, ...) to completion with a
// time limit, and returns its exit code and output; `mustRun` turns a non-zero exit into an
// error that carries the command and its stderr.
import { execFile } from 'node:child_process';
import { cleanEnv } from './env.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Added to this process's environment (REGISTRY_* variables are always dropped). */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, {
      env: cleanEnv(options.env), cwd: options.cwd, timeout: options.timeoutMs ?? 180_000, killSignal: 'SIGKILL',
      maxBuffer: 64 * 1024 * 1024, encoding: 'utf8',
    }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown; killed?: boolean }) | null;
      if (e && typeof e.code === 'string') {
        reject(new Error(`${command} ${args.join(' ')}: ${e.message}`));
        return;
      }
      if (e?.killed) {
        reject(new Error(`${command} ${args.join(' ')}: killed after ${options.timeoutMs ?? 180_000} ms\n${stderr}`));
        return;
      }
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs the command and returns its stdout; fails with the command line and output unless it exits 0. */
export async function mustRun(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const r = await runCommand(command, args, options);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
  }
  return r.stdout;
}
