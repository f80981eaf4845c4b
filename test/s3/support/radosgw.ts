// One real S3 per test process: Ceph's RADOS Gateway from Debian, started on loopback by
// ../shared/s3/start-radosgw.sh (shared/ sits beside the clone, in CI too) in a temp dir on
// free ports, and stopped when the process exits. Buckets are per test.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, IN_CI, onPath, PROJECT_ROOT } from '../../e2e/support/env.js';
import type { S3DriverOptions } from '../../../src/storage/drivers/s3/options.js';

export const START_RADOSGW = resolve(PROJECT_ROOT, '../shared/s3/start-radosgw.sh');

export interface RadosGateway {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  dir: string;
}

/** Why the S3 tests cannot run here (outside CI), or false; under CI=true missing Ceph fails. */
export const radosgwSkip: string | false = (() => {
  const missing = ['radosgw', 'ceph-mon', 'ceph-osd', 'radosgw-admin', 'monmaptool'].filter((c) => !onPath(c) && !onPath(`../sbin/${c}`));
  if (missing.length === 0 || IN_CI) return false;
  return `Ceph's radosgw is not installed (${missing.join(', ')}); install with scripts/install-test-deps.sh`;
})();

let started: Promise<RadosGateway> | undefined;

/** Starts the process's radosgw on first use. */
export function radosgw(): Promise<RadosGateway> {
  started ??= start();
  return started;
}

async function start(): Promise<RadosGateway> {
  // Not tempDir(): its exit hook would delete the pid files before the daemons are stopped.
  const base = await mkdtemp(join(tmpdir(), 'berth-radosgw-'));
  const dir = join(base, 'ceph');
  const port = await freePort();
  const monPort = await freePort();
  const env = {
    ...process.env, CEPH_MON_PORT: String(monPort), CEPH_OBJECTSTORE: 'memstore',
    CEPH_STORE_SIZE: String(3 * 1024 * 1024 * 1024), S3_ACCESS_KEY: 'berth', S3_SECRET_KEY: 'berthsecret',
    ...(IN_CI ? {} : { SKIP_APT: '1' }),
  };
  process.once('exit', () => {
    spawnSync('bash', [START_RADOSGW, '--stop', dir], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  });
  const res = spawnSync('bash', [START_RADOSGW, dir, String(port)], { env, encoding: 'utf8', timeout: 180_000 });
  if (res.status !== 0) throw new Error(`start-radosgw.sh failed (${res.status ?? res.signal}):\n${res.stderr.slice(-4000)}`);
  const vars = Object.fromEntries(readFileSync(join(dir, 's3.env'), 'utf8').split('\n')
    .filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return {
    endpoint: vars['S3_ENDPOINT']!, accessKey: vars['AWS_ACCESS_KEY_ID']!, secretKey: vars['AWS_SECRET_ACCESS_KEY']!,
    region: vars['AWS_REGION'] ?? 'us-east-1', dir,
  };
}

/** Stops this process's radosgw now (tests call it in after(); exit does it otherwise). */
export async function stopRadosgw(): Promise<void> {
  if (!started) return;
  const gw = await started.catch(() => undefined);
  started = undefined;
  if (gw) {
    spawnSync('bash', [START_RADOSGW, '--stop', gw.dir], { stdio: 'ignore' });
    rmSync(dirname(gw.dir), { recursive: true, force: true });
  }
}

export function s3Client(gw: RadosGateway): S3Client {
  return new S3Client({
    endpoint: gw.endpoint, region: gw.region, forcePathStyle: true,
    credentials: { accessKeyId: gw.accessKey, secretAccessKey: gw.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A new empty bucket; its name is returned. */
export async function newBucket(gw: RadosGateway, prefix = 'berth'): Promise<string> {
  const bucket = `${prefix}-${randomUUID().slice(0, 8)}`;
  await s3Client(gw).send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Driver options for a bucket on this gateway, in Distribution's key names. */
export function driverOptions(gw: RadosGateway, bucket: string, extra: Partial<S3DriverOptions> = {}): S3DriverOptions {
  return {
    bucket, region: gw.region, regionendpoint: gw.endpoint, accesskey: gw.accessKey, secretkey: gw.secretKey,
    forcepathstyle: true, secure: false, ...extra,
  };
}
