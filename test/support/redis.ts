// A throwaway redis-server from Debian's package on 127.0.0.1 and a free port, without
// persistence, its working files in a temporary directory. Tests that share it across
// Berth servers play several replicas; stop() and start() again play an outage.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, IN_CI, stopChild, tail, track } from '../e2e/support/env.js';

const BIN = '/usr/bin/redis-server';

export interface RedisServer {
  /** host:port, as `redis.addr` takes it. */
  addr: string;
  /** Stops the server (an outage); start() brings it back on the same port, empty. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/** Whether redis-server can be started here; under CI=true its absence is a failure. */
export function redisAvailable(): boolean {
  return existsSync(BIN);
}

/** The skip reason for a suite that needs Redis: never a skip under CI=true. */
export function redisSkip(): string | false {
  return !IN_CI && !redisAvailable() ? 'redis-server is not installed (scripts/install-test-deps.sh installs it)' : false;
}

export async function startRedis(): Promise<RedisServer> {
  if (!redisAvailable()) throw new Error(`redis-server is not installed (no ${BIN}); run scripts/install-test-deps.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'berth-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const log = tail();
    const c = track(spawn(BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready within 20 s:\n${log.text()}`)), 20_000);
      const onData = (d: Buffer) => {
        log.push(d);
        if (/Ready to accept connections/.test(log.text())) { clearTimeout(timer); resolve(); }
      };
      c.stdout?.on('data', onData);
      c.stderr?.on('data', (d: Buffer) => log.push(d));
      c.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}:\n${log.text()}`)); });
    });
  };
  const stop = async () => {
    if (child) await stopChild(child, 'SIGTERM', 5000);
    child = undefined;
  };
  await start();
  return {
    addr: `127.0.0.1:${port}`,
    stop, start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
