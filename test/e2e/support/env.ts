// Shared e2e plumbing: the project root, the lab scripts, free ports on 127.0.0.1, temporary
// directories, the client rule (missing tools fail under CI=true, skip elsewhere), and a
// last-resort kill of every child process this test file started.
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the directory holding Berth's package.json), found from this file. */
export const PROJECT_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'berth') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no berth package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();

export const BERTH_BIN = join(PROJECT_ROOT, 'bin', 'berth.js');
export const LAB_DIR = resolve(PROJECT_ROOT, '../shared/lab');
export const MAKE_IMAGES = join(LAB_DIR, 'make-images.sh');

export const IN_CI = process.env.CI === 'true';

/** A free TCP port on 127.0.0.1 (the kernel picks it; the caller retries on a lost race). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolvePort(port) : reject(new Error('no port'))));
    });
  });
}

const tempDirs = new Set<string>();

/** A fresh directory under the OS temp dir; removed by removeDir(), or at exit at the latest. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `berth-e2e-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (!dir) return;
  await rm(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Whether an executable `command` is found on PATH. */
export function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      if (statSync(join(dir, command)).isFile()) return true;
    } catch {
      // not here
    }
  }
  return false;
}

export interface ClientGate {
  /** For describe()/it(): a reason to skip (outside CI only), or false. */
  skip: string | false;
  /** Call first in before(): under CI=true a missing client is a failure, never a skip. */
  assertPresent(): void;
}

/** The client rule: required tools missing => FAIL under CI=true, skip with a reason elsewhere. */
export function requireClients(...commands: string[]): ClientGate {
  const missing = commands.filter((c) => !onPath(c));
  const message = `missing on PATH: ${missing.join(', ')} (install with scripts/install-test-deps.sh, as CI does)`;
  return {
    skip: missing.length > 0 && !IN_CI ? message : false,
    assertPresent() {
      if (missing.length > 0) throw new Error(`CI=true and the e2e clients are ${message}`);
    },
  };
}

// Every child started through track() is SIGKILLed if this test process exits with it alive.
const children = new Set<ChildProcess>();
function killTracked(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
process.once('exit', () => {
  killTracked();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
// A runner that interrupts this file (Ctrl-C, timeout) must not leave registries running.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    killTracked();
    process.exit(code);
  });
}

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Stops one child by its pid: `signal`, then SIGKILL after `graceMs`. Resolves once it exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `url` until it answers 200, the process dies, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: ChildProcess, describeFailure: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${url} answered\n${describeFailure()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms\n${describeFailure()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Keeps the last `max` characters of a stream, for error messages. */
export function tail(max = 8000): { push(chunk: Buffer | string): void; text(): string } {
  let buf = '';
  return {
    push(chunk) {
      buf += chunk.toString();
      if (buf.length > max) buf = buf.slice(-max);
    },
    text: () => buf,
  };
}

/** The environment of this process without REGISTRY_* variables (they would configure children). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * Starts a server on a free port, trying another port when the one picked was taken in the
 * meantime (`isBusy` recognises that server's way of saying so).
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, isBusy: (err: unknown) => boolean): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await start(await freePort());
    } catch (err) {
      lastError = err;
      if (!isBusy(err)) throw err;
    }
  }
  throw lastError;
}
