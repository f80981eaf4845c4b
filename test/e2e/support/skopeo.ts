// Thin wrappers around the real skopeo binary. Registries here speak plain HTTP on 127.0.0.1,
// so every docker:// access gets --tls-verify=false; the signature policy is bypassed with
// --insecure-policy so no /etc/containers/policy.json is needed.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function skopeoRun(args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile('skopeo', ['--insecure-policy', ...args], {
      encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, killSignal: 'SIGKILL',
    }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      if (e && typeof e.code === 'string') {
        reject(new Error(`skopeo ${args.join(' ')}: ${e.message}`));
        return;
      }
      const code = e ? (typeof e.code === 'number' ? e.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

/** Runs skopeo and fails with its stderr unless it exits 0. */
export async function skopeo(args: string[], timeoutMs?: number): Promise<Buffer> {
  const r = await skopeoRun(args, timeoutMs);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

export interface CopyOptions {
  /** Copy every image of an index (`--all`). */
  all?: boolean;
  extra?: string[];
}

export async function copy(src: string, dest: string, options: CopyOptions = {}): Promise<void> {
  await skopeo([
    'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false',
    ...(options.all ? ['--all'] : []), ...(options.extra ?? []), src, dest,
  ]);
}

/** `skopeo inspect --raw`: the manifest bytes exactly as the registry serves them. */
export async function inspectRaw(ref: string): Promise<Buffer> {
  return skopeo(['inspect', '--raw', ...tlsFlag(ref), ref]);
}

export async function inspectConfig(ref: string): Promise<Buffer> {
  return skopeo(['inspect', '--config', '--raw', ...tlsFlag(ref), ref]);
}

export async function listTags(ref: string): Promise<string[]> {
  const out = JSON.parse((await skopeo(['list-tags', ...tlsFlag(ref), ref])).toString('utf8')) as { Tags?: string[] };
  return [...(out.Tags ?? [])].sort();
}

export async function deleteImage(ref: string): Promise<void> {
  await skopeo(['delete', ...tlsFlag(ref), ref]);
}

export function sha256Of(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function tlsFlag(ref: string): string[] {
  return ref.startsWith('docker://') ? ['--tls-verify=false'] : [];
}
