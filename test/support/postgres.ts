// A throwaway PostgreSQL server from Debian's packages, on 127.0.0.1 and a free port, with its
// data in a temporary directory. One per test process, started on first use and stopped at exit.
// Debian's server refuses to run as root, so as root it runs as the `postgres` system user.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, IN_CI, track } from '../e2e/support/env.js';

export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

/** Whether a PostgreSQL server can be started here; under CI=true its absence is a failure. */
export function postgresAvailable(): boolean {
  return binDir() !== undefined;
}

let shared: Promise<PostgresServer> | undefined;

/** The process-wide server (started once); tests isolate themselves with their own database. */
export function sharedPostgres(): Promise<PostgresServer> {
  shared ??= startPostgres();
  return shared;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  if (!bin) {
    throw new Error(`PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres); run scripts/install-test-deps.sh${IN_CI ? '' : ' (as root)'}`);
  }
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'berth-pg-'));
  if (asRoot) chownSync(dir, uid('postgres'), gid('postgres'));
  // As root, both run as the postgres user directly (not through runuser), so the pid we hold
  // is the server's own and a kill reaches it.
  const as = asRoot ? { uid: uid('postgres'), gid: gid('postgres') } : {};
  const run = (cmd: string, args: string[]) => execFileSync(join(bin, cmd), args, { stdio: 'pipe', cwd: dir, ...as });
  run('initdb', ['-D', join(dir, 'data'), '-U', 'berth', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const args = ['-D', join(dir, 'data'), '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  const child: ChildProcess = track(spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...as }));
  let log = '';
  child.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  // The shared server must not keep a finished test process alive; the exit hook below kills it.
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  const url = `postgres://berth@127.0.0.1:${port}/postgres`;
  await waitUntilReady(url, child, () => log);
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => { if (child.exitCode === null) child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); });
  return { url, stop };
}

/** A fresh, empty database on the shared server; returns its URL. */
export async function freshPostgresDatabase(prefix = 'berth'): Promise<string> {
  const server = await sharedPostgres();
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  return server.url.replace(/\/postgres$/, `/${name}`);
}

async function waitUntilReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const { default: pg } = await import('pg');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}:\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s:\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}
function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}
