// Starts a registry process (Berth, Debian's docker-registry) on 127.0.0.1:PORT, keeps the tail of
// its output for failure messages, and waits until /v2/ answers; a process that never answers is
// killed before the error is thrown.
import { spawn, type ChildProcess } from 'node:child_process';
import { stopChild, tail, track, waitForHttp } from './env.js';

export interface ServerProcess {
  child: ChildProcess;
  host: string;
  url: string;
  logs(): string;
}

export interface ServerProcessOptions {
  /** Names the process in failure messages. */
  label: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  timeoutMs?: number;
}

export async function startServerProcess(o: ServerProcessOptions): Promise<ServerProcess> {
  const child = track(spawn(o.command, o.args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = tail();
  child.stdout?.on('data', (c: Buffer) => log.push(c));
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  child.on('error', (err) => log.push(`spawn error: ${err.message}\n`));
  const host = `127.0.0.1:${o.port}`;
  const url = `http://${host}`;
  try {
    await waitForHttp(`${url}/v2/`, child, () => `${o.label} logs:\n${log.text()}`, o.timeoutMs);
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
  return { child, host, url, logs: () => log.text() };
}
