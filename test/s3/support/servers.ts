// Berth (`berth serve CONFIG`) and Debian's docker-registry (Distribution 2.8) on 127.0.0.1, both
// on S3 buckets of the test's radosgw, each from a config.yml the test writes.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BERTH_BIN, cleanEnv, onFreePort, stopChild } from '../../e2e/support/env.js';
import { startServerProcess } from '../../e2e/support/server-process.js';
import type { RadosGateway } from './radosgw.js';

export interface Server {
  url: string;
  host: string;
  logs(): string;
  stop(): Promise<void>;
}

/** Distribution's `storage.s3` keys for a bucket of this gateway (both servers read them). */
export function s3Storage(gw: RadosGateway, bucket: string, rootdirectory = '/'): Record<string, unknown> {
  return {
    accesskey: gw.accessKey, secretkey: gw.secretKey, region: gw.region, regionendpoint: gw.endpoint,
    bucket, secure: false, forcepathstyle: true, v4auth: true, chunksize: 5 * 1024 * 1024, rootdirectory,
  };
}

type Config = Record<string, unknown>;

export function startBerthS3(dir: string, config: (port: number) => Config): Promise<Server> {
  return onFreePort((port) => start('berth', process.execPath, [BERTH_BIN, 'serve'], dir, port, {
    version: '0.1', log: { level: 'warn', accesslog: { disabled: true } }, http: { addr: `127.0.0.1:${port}` },
    ...config(port),
  }), (err) => /EADDRINUSE/.test(String(err)));
}

/** `middleware`: Distribution's storage middleware; with it, blob GETs redirect (redirect.disable off). */
export function startDistributionS3(dir: string, storage: Record<string, unknown>, middleware?: Config): Promise<Server> {
  return onFreePort((port) => start('docker-registry', 'docker-registry', ['serve'], dir, port, {
    version: '0.1', log: { level: 'warn', accesslog: { disabled: true } }, http: { addr: `127.0.0.1:${port}` },
    storage: { s3: storage, delete: { enabled: true }, redirect: { disable: !middleware }, maintenance: { uploadpurging: { enabled: false } } },
    ...(middleware ? { middleware } : {}),
  }), (err) => /address already in use/i.test(String(err)));
}

async function start(label: string, command: string, args: string[], dir: string, port: number, config: Config): Promise<Server> {
  const file = join(dir, `${label}-${port}.yml`);
  await writeFile(file, stringify(config));
  // AWS_CA_BUNDLE (set on this machine) makes the Go SDK insist on TLS settings an http endpoint lacks.
  const env = cleanEnv();
  delete env['AWS_CA_BUNDLE'];
  // Berth on S3 loads the AWS SDK at startup: seconds on a machine busy with other suites.
  const { child, host, url, logs } = await startServerProcess({ label, command, args: [...args, file], env, port, timeoutMs: 90_000 });
  return { url, host, logs, stop: () => stopChild(child) };
}
