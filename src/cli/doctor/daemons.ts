// Asks the running daemons what they actually use, to catch a file edited without a restart.
// Only when the daemon belongs to the files being checked: --root / (this machine), or a
// daemon named explicitly (DOCKER_HOST, CONTAINER_RUNTIME_ENDPOINT). Any failure (not installed,
// not running, no permission) is a quiet "unknown".
import { execFile } from 'node:child_process';

// --timeout bounds waiting on the network; a local CLI asking a local daemon needs at least
// this long to start on a busy machine, or a short network timeout would hide the daemon.
const LOCAL_DAEMON_FLOOR_MS = 10_000;

function run(command: string, args: string[], timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: Math.max(timeoutMs, LOCAL_DAEMON_FLOOR_MS), maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => resolve(err ? undefined : stdout.toString()));
  });
}

export interface DockerRegistryConfig {
  mirrors: string[];
  insecureCidrs: string[];
  /** Registry name -> secure, for the names dockerd knows (insecure-registries entries, docker.io). */
  secure: Map<string, boolean>;
}

export async function dockerRegistryConfig(root: string, timeoutMs: number): Promise<DockerRegistryConfig | undefined> {
  if (root !== '/' && !process.env.DOCKER_HOST) return undefined;
  const out = await run('docker', ['info', '--format', '{{json .RegistryConfig}}'], timeoutMs);
  if (!out) return undefined;
  try {
    const rc = JSON.parse(out) as { Mirrors?: string[] | null; InsecureRegistryCIDRs?: string[] | null; IndexConfigs?: Record<string, { Secure?: boolean }> | null };
    return {
      mirrors: (rc.Mirrors ?? []).map((m) => m.replace(/\/+$/, '')),
      insecureCidrs: rc.InsecureRegistryCIDRs ?? [],
      secure: new Map(Object.entries(rc.IndexConfigs ?? {}).map(([k, v]) => [k, v.Secure !== false])),
    };
  } catch {
    return undefined;
  }
}

/** config_path as the running CRI plugin has it (crictl info), when crictl reaches one. */
export async function criConfigPath(root: string, timeoutMs: number): Promise<{ configPath: string } | undefined> {
  if (root !== '/' && !process.env.CONTAINER_RUNTIME_ENDPOINT) return undefined;
  const out = await run('crictl', ['info'], timeoutMs);
  if (!out) return undefined;
  try {
    const info = JSON.parse(out) as { config?: { registry?: { configPath?: string } } };
    const configPath = info.config?.registry?.configPath;
    return typeof configPath === 'string' ? { configPath } : undefined;
  } catch {
    return undefined;
  }
}
