// The individual checks behind /readyz: each resolves when healthy and rejects with a message
// that names what is wrong. Live checks run on every /readyz; Distribution's configured checks
// (`health.*`) run on their own interval (see periodic.ts).
import { statfs, access } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { StorageDriver } from '../storage/driver.js';
import { PathNotFoundError } from '../storage/driver.js';
import { isStorageFull } from '../errors/storage-full.js';

export type Check = (signal: AbortSignal) => Promise<void>;

/** Storage reachable and writable: a small file is written, read back and removed. */
export function storageWritable(driver: StorageDriver, instanceId: string): Check {
  const path = `/berth/health/${instanceId}`;
  return async () => {
    const token = `${Date.now()}`;
    await driver.putContent(path, token).catch((err: unknown) => {
      throw isStorageFull(err) ? new Error('storage is full (no space left on device)') : err;
    });
    const back = (await driver.getContent(path)).toString('utf8');
    if (back !== token) throw new Error('storage returned other content than was written');
    await driver.delete(path);
  };
}

/** The metadata database answers a query. */
export function metaReachable(db: Kysely<MetaTables>): Check {
  return async () => {
    await db.selectFrom('berth_meta').select('key').limit(1).execute();
  };
}

/** Redis (`redis` configured) answers a PING, as Distribution's readiness checks it. */
export function redisAnswers(redis: { ping(): Promise<string> }): Check {
  return async () => {
    const answer = await redis.ping();
    if (answer !== 'PONG') throw new Error(`redis answered ${answer} to PING`);
  };
}

/** Free space on the disk holding `dir` is above the thresholds. */
export function diskFree(dir: string, minFreeBytes: number, minFreePercent: number): Check {
  return async () => {
    const s = await statfs(dir);
    const free = s.bavail * s.bsize;
    const percent = s.blocks > 0 ? (100 * s.bavail) / s.blocks : 100;
    // Full is unhealthy whatever the thresholds (even 0): every push would fail.
    if (s.bavail === 0) throw new Error(`storage is full: no space left on ${dir}`);
    if (free < minFreeBytes) throw new Error(`${free} bytes free, below ${minFreeBytes}`);
    if (percent < minFreePercent) throw new Error(`${percent.toFixed(1)}% free, below ${minFreePercent}%`);
  };
}

/** Distribution's `health.storagedriver`: the driver answers at its root (absent counts as fine). */
export function storageDriverAnswers(driver: StorageDriver): Check {
  return async () => {
    await driver.list('/').catch((err: unknown) => {
      if (!(err instanceof PathNotFoundError)) throw err;
    });
  };
}

/** Distribution's `health.file`: unhealthy while the file exists (to drain a node on purpose). */
export function fileAbsent(file: string): Check {
  return async () => {
    const exists = await access(file).then(() => true, () => false);
    if (exists) throw new Error(`${file} exists`);
  };
}

/** Distribution's `health.http`: a GET answered with the expected status. */
export function httpAnswers(uri: string, headers: Record<string, string[]>, status: number, timeoutMs: number): Check {
  return async (signal) => {
    const h = new Headers();
    for (const [k, vs] of Object.entries(headers)) for (const v of vs) h.append(k, v);
    const res = await fetch(uri, { headers: h, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
    await res.body?.cancel();
    if (res.status !== status) throw new Error(`${uri} answered ${res.status}, expected ${status}`);
  };
}

/** Distribution's `health.tcp`: a connection opens within the timeout. */
export function tcpConnects(addr: string, timeoutMs: number): Check {
  const sep = addr.lastIndexOf(':');
  const host = addr.slice(0, sep).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(addr.slice(sep + 1));
  return () => new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => { socket.destroy(); resolve(); });
    socket.once('timeout', () => { socket.destroy(); reject(new Error(`${addr}: no connection within ${timeoutMs} ms`)); });
    socket.once('error', (err) => reject(new Error(`${addr}: ${err.message}`)));
  });
}
