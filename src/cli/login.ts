// `berth login REGISTRY`: checks the credentials against the registry (a /v2/ ping answered
// with them), then stores them where docker login would.
import { createInterface } from 'node:readline';
import { RegistryClient, storeDockerCredentials, apiHost, isLoopback, speaksOnlyHttp } from '../client/index.js';
import { readFile } from 'node:fs/promises';

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
}

async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

export async function login(registry: string, flags: { username?: string; password?: string; passwordStdin?: boolean; plainHttp?: boolean; insecure?: boolean; ca?: string }): Promise<void> {
  const username = flags.username ?? await prompt('Username: ');
  const password = flags.passwordStdin ? await readStdin() : flags.password ?? await prompt('Password: ');
  if (!username || !password) throw new Error('a username and a password are needed');
  const host = apiHost(registry);
  const plainHttp = flags.plainHttp ?? (isLoopback(host) && !flags.ca ? await speaksOnlyHttp(host) : false);
  const client = new RegistryClient({
    host, plainHttp, retries: 1,
    tls: { ...(flags.insecure ? { insecure: true } : {}), ...(flags.ca ? { ca: await readFile(flags.ca) } : {}) },
    credentials: async () => ({ username, password }),
  });
  try {
    // The client answers the /v2/ challenge with the credentials (Basic, or a token fetched with
    // them); still 401 afterwards means they were refused.
    if ((await client.ping()).status === 401) throw new Error(`${registry} refused the credentials of ${username}`);
  } finally {
    await client.close();
  }
  const where = await storeDockerCredentials(registry, { username, password });
  process.stderr.write(`Login Succeeded (credentials stored in ${where})\n`);
}
