// Debian's `docker-registry serve CONFIG` (CNCF Distribution 2.8) on 127.0.0.1, filesystem
// storage in a directory the caller owns, delete enabled: the reference for layout interop.
import { execFile, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanEnv, onFreePort, stopChild } from './env.js';
import { startServerProcess } from './server-process.js';

export interface DistributionProcess {
  url: string;
  /** The config.yml it runs with (for garbage-collect). */
  config: string;
  host: string;
  pid: number;
  root: string;
  child: ChildProcess;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface DistributionOptions {
  /** Storage root directory (`storage.filesystem.rootdirectory`). */
  root: string;
  /** Where config.yml is written (not inside root). */
  configDir: string;
}

export async function startDistribution(options: DistributionOptions): Promise<DistributionProcess> {
  return onFreePort((port) => startOn(port, options), (err) => /address already in use/i.test(String(err)));
}

/** Writes a config.yml for `root` (filesystem, delete enabled) listening on 127.0.0.1:port. */
export async function writeDistributionConfig(options: DistributionOptions, port: number): Promise<string> {
  const config = join(options.configDir, `distribution-${port}.yml`);
  await writeFile(config, [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(options.root)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n'));
  return config;
}

/** `docker-registry garbage-collect CONFIG` (offline mark and sweep); returns its output. */
export function distributionGarbageCollect(config: string, extra: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker-registry', ['garbage-collect', ...extra, config], { env: cleanEnv(), timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`docker-registry garbage-collect failed: ${err.message}\n${stderr}`)) : resolve(`${stdout}${stderr}`)));
  });
}

async function startOn(port: number, options: DistributionOptions): Promise<DistributionProcess> {
  const config = await writeDistributionConfig(options, port);
  // REGISTRY_* variables from the environment would override the file: drop them.
  const { child, host, url, logs } = await startServerProcess({
    label: 'docker-registry', command: 'docker-registry', args: ['serve', config], env: cleanEnv(), port,
  });
  return {
    url, config, host, pid: child.pid!, root: options.root, child, logs,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => stopChild(child, signal),
  };
}
