// `berth token create|ls|revoke`: a user's personal access tokens, through the registry's
// `/api/v1/user/tokens` (so directory users, who exist only there, manage theirs too). Signs in
// with `--username` and a password from stdin, else with the credentials `docker login` stored
// for the registry. The token's text is printed once, on creation.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { dockerConfigCredentials, type Credentials } from '../client/index.js';

interface Common { registry: string; username?: string; passwordStdin?: boolean; ca?: string; insecure?: boolean }

export function registerTokenCommand(program: Command): void {
  const token = program.command('token').description('personal access tokens: passwords for docker, podman, skopeo and ctr');
  common(token.command('create').argument('<name>')
    .requiredOption('--scope <project:actions...>', 'what it may do, e.g. team:pull,push or *:pull (repeatable)')
    .option('--expires <duration>', 'lifetime, e.g. 720h (default: no expiry)'))
    .action(guard(async (name: string, opts: Common & { scope: string[]; expires?: string }) => {
      const created = await call(opts, 'POST', '/api/v1/user/tokens', { name, scopes: opts.scope, ...(opts.expires ? { expiresIn: opts.expires } : {}) }) as { id: string; token: string; expiresAt: string | null };
      process.stderr.write(`token ${created.id} created${created.expiresAt ? `, expires ${created.expiresAt}` : ''}; it is shown this once:\n`);
      process.stdout.write(`${created.token}\n`);
    }));
  common(token.command('ls')).action(guard(async (opts: Common) => {
    const list = await call(opts, 'GET', '/api/v1/user/tokens') as Array<{ id: string; name: string; scopes: Array<{ project: string; actions: string[] }>; expiresAt: string | null; lastUsedAt: string | null; revokedAt: string | null }>;
    for (const t of list) {
      const scopes = t.scopes.map((s) => `${s.project}:${s.actions.join(',')}`).join(' ');
      const state = t.revokedAt ? `revoked ${t.revokedAt}` : t.expiresAt ? `expires ${t.expiresAt}` : 'no expiry';
      process.stdout.write(`${t.id}\t${t.name}\t${scopes}\t${state}\tlast used ${t.lastUsedAt ?? 'never'}\n`);
    }
  }));
  common(token.command('revoke').argument('<id>')).action(guard(async (id: string, opts: Common) => {
    await call(opts, 'DELETE', `/api/v1/user/tokens/${encodeURIComponent(id)}`);
    process.stderr.write(`token ${id} revoked\n`);
  }));
}

function common(cmd: Command): Command {
  return cmd.requiredOption('--registry <url>', 'the registry, e.g. https://registry.example:5000')
    .option('-u, --username <name>', 'sign in as (else the credentials docker login stored)')
    .option('--password-stdin', 'read the password from stdin')
    .option('--ca <file>', 'CA certificate of the registry').option('--insecure', 'do not verify the registry\'s certificate');
}

function guard<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    try {
      await action(...([...args.slice(0, -2), cmd.opts()] as unknown as A));
    } catch (err) {
      process.stderr.write(`berth: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  };
}

async function credentials(opts: Common, host: string): Promise<Credentials> {
  if (opts.username) {
    if (!opts.passwordStdin) throw new Error('--username needs --password-stdin');
    return { username: opts.username, password: await readStdin() };
  }
  const stored = await dockerConfigCredentials()(host);
  if (!stored) throw new Error(`no credentials for ${host}: pass --username and --password-stdin, or docker login first`);
  return stored;
}

async function call(opts: Common, method: string, path: string, body?: unknown): Promise<unknown> {
  let base: URL;
  try {
    base = new URL(opts.registry);
  } catch {
    throw new Error(`--registry ${opts.registry} is not a URL (https://host:port)`);
  }
  const creds = await credentials(opts, base.host);
  const agent = new Agent({ connect: { ...(opts.ca ? { ca: await readFile(opts.ca) } : {}), ...(opts.insecure ? { rejectUnauthorized: false } : {}) } });
  try {
    const res = await request(new URL(path, base), {
      method: method as 'GET', dispatcher: agent,
      headers: { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch { /* not JSON: the text as is */ }
      throw new Error(`${base.host} answered ${res.statusCode}: ${message}`);
    }
    return text === '' ? undefined : JSON.parse(text) as unknown;
  } finally {
    await agent.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
