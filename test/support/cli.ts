// The one way tests run the real `berth` binary (a one-shot command: gc, index, configure,
// doctor, copy, ...) to completion: REGISTRY_* variables of this process are dropped so only
// what the test passes configures it, and the exit code and both outputs come back whole.
// Long-running `berth serve` processes start through test/support/processes.ts instead.
import { execFile } from 'node:child_process';
import { BERTH_BIN, cleanEnv } from '../e2e/support/env.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Standard input; empty (closed) when omitted. */
  input?: string;
  cwd?: string;
}

/**
 * Runs `berth ...args` with `env` added; resolves with its exit code and output (a signal, e.g.
 * the time limit, counts as code 1). Rejects only when the binary cannot be started.
 */
export function runBerth(args: string[], env: Record<string, string> = {}, timeoutMs = 300_000, options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [BERTH_BIN, ...args], {
      env: cleanEnv(env), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', cwd: options.cwd,
    }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: unknown }) | null;
      if (e && typeof e.code === 'string') {
        reject(new Error(`berth ${args.join(' ')}: ${e.message}`));
        return;
      }
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}

/** Runs berth and fails with its output unless it exits 0. */
export async function berthOk(args: string[], env: Record<string, string> = {}, timeoutMs?: number): Promise<CliResult> {
  const r = await runBerth(args, env, timeoutMs);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Runs berth with --json appended, requires exit 0, and parses what it printed. */
export async function berthJson<T = Record<string, unknown>>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await berthOk([...args, '--json'], env);
  return JSON.parse(r.stdout) as T;
}
