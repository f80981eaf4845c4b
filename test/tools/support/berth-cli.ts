// Runs the real `berth` binary for client-tool tests and returns its exit code and output.
import { execFile } from 'node:child_process';
import { BERTH_BIN, cleanEnv } from '../../e2e/support/env.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function berthCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BERTH_BIN, ...args], { env: cleanEnv(env), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

/** Runs berth and fails with its output unless it exits 0; parses --json output when asked. */
export async function berthOk(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await berthCli(args, env);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export async function berthJson<T = Record<string, unknown>>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await berthOk([...args, '--json'], env);
  return JSON.parse(r.stdout) as T;
}
