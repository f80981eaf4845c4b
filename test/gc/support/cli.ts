// Runs the real `berth` binary (a subcommand, e.g. gc) to completion.
import { execFile } from 'node:child_process';
import { BERTH_BIN, cleanEnv } from '../../e2e/support/env.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runBerth(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BERTH_BIN, ...args], { env: cleanEnv(env), timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
  });
}

export interface GcJson {
  dryRun: boolean;
  manifests: { repository: string; digest: string }[];
  blobs: { digest: string; size: number }[];
  bytes: number;
  layerLinks: { repository: string; digest: string }[];
}

export async function berthGc(config: string, flags: string[]): Promise<GcJson> {
  const res = await runBerth(['gc', '--config', config, '--json', ...flags]);
  if (res.code !== 0) throw new Error(`berth gc ${flags.join(' ')} exited ${res.code}:\n${res.stderr}`);
  return JSON.parse(res.stdout) as GcJson;
}
