// Credentials the way Docker keeps them: $DOCKER_CONFIG/config.json (or ~/.docker/config.json)
// with `auths` (base64 user:password), `credHelpers` per registry and a default `credsStore`,
// both through the docker-credential-<name> helper protocol (get/store/erase on stdin/stdout).
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Credentials, CredentialLookup } from './auth.js';

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

async function readConfig(path: string): Promise<DockerConfigFile> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as DockerConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/** The keys Docker may have stored a registry's credentials under. */
function keysFor(host: string): string[] {
  if (host === 'docker.io' || host === 'registry-1.docker.io' || host === 'index.docker.io') {
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  }
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
}

function helperRun(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, [action], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker-credential-${helper} ${action}: ${(stderr || stdout || err.message).trim()}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

async function fromHelper(helper: string, host: string): Promise<Credentials | undefined> {
  for (const key of keysFor(host).slice(0, 2)) {
    try {
      const doc = JSON.parse(await helperRun(helper, 'get', key)) as { Username?: string; Secret?: string };
      if (doc.Username !== undefined && doc.Secret !== undefined) return { username: doc.Username, password: doc.Secret };
    } catch (err) {
      if (/not found/i.test((err as Error).message)) continue;
      throw err;
    }
  }
  return undefined;
}

/** Looks `host` up in Docker's config: its credential helper, the default store, then `auths`. */
export function dockerConfigCredentials(path: string = dockerConfigPath()): CredentialLookup {
  return async (host) => {
    const config = await readConfig(path);
    const helper = keysFor(host).map((k) => config.credHelpers?.[k]).find(Boolean);
    if (helper) return fromHelper(helper, host);
    for (const key of keysFor(host)) {
      const entry = config.auths?.[key];
      if (!entry) continue;
      if (entry.auth) {
        const text = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = text.indexOf(':');
        if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
      }
      if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    }
    if (config.credsStore) return fromHelper(config.credsStore, host);
    return undefined;
  };
}

/** `--creds user:pass` */
export function parseCreds(text: string): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new Error('credentials must be USER:PASSWORD');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Stores credentials as `docker login` does: in the helper for the host, or in `auths`. */
export async function storeDockerCredentials(host: string, creds: Credentials, path: string = dockerConfigPath()): Promise<string> {
  const config = await readConfig(path);
  const key = host === 'docker.io' ? 'https://index.docker.io/v1/' : host;
  const helper = config.credHelpers?.[key] ?? config.credsStore;
  config.auths ??= {};
  if (helper) {
    await helperRun(helper, 'store', JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }));
    config.auths[key] = {};
  } else {
    config.auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(config, null, '\t'), { mode: 0o600 });
  await rename(temp, path);
  return helper ? `docker-credential-${helper}` : path;
}
