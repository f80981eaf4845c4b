// Three (or n) `berth serve` replicas as an operator runs them: one config each, sharing an S3
// bucket (radosgw), a PostgreSQL database (metadata, listing index, notification queues,
// pull-through book) and Redis (fill locks, rate limits), behind Debian's nginx balancing
// round-robin without stickiness. A replica can be killed (-9) or drained (SIGTERM) and started
// again on its port, which nginx keeps in its upstream list.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BERTH_BIN, cleanEnv, freePort, stopChild } from '../../e2e/support/env.js';
import { startNginx, type NginxProcess } from '../../e2e/support/nginx-process.js';
import { startServerProcess, type ServerProcess } from '../../e2e/support/server-process.js';

export interface SharedServices {
  /** Distribution's storage.s3 keys for the bucket. */
  s3: Record<string, unknown>;
  postgresUrl: string;
  redisAddr: string;
  /** Notification endpoint URL (each replica names itself in an X-Replica header). */
  webhook?: string;
  /** Pull-through upstream: projects under `name/` come from `remoteurl`. */
  upstream?: { name: string; remoteurl: string };
}

export interface Replica {
  readonly name: string;
  readonly port: number;
  readonly config: string;
  /** The running process, undefined while stopped. */
  process: ServerProcess | undefined;
  start(): Promise<void>;
  /** SIGKILL: a crash, nothing finishes. */
  kill(): Promise<void>;
  /** SIGTERM: drains in-flight requests; resolves with the exit code. */
  drain(): Promise<number | null>;
}

export interface ReplicaSet {
  replicas: Replica[];
  /** host:port of nginx in front of them (plain HTTP on 127.0.0.1). */
  host: string;
  nginx: NginxProcess;
  stop(): Promise<void>;
}

export function replicaConfig(name: string, port: number, shared: SharedServices): Record<string, unknown> {
  return {
    version: '0.1',
    log: { level: 'warn', accesslog: { disabled: true } },
    http: { addr: `127.0.0.1:${port}`, draintimeout: '60s' },
    storage: {
      s3: shared.s3, delete: { enabled: true }, redirect: { disable: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    meta: { postgres: { url: shared.postgresUrl } },
    redis: { addr: shared.redisAddr },
    ...(shared.webhook ? {
      notifications: {
        endpoints: [{
          name: 'soak', url: shared.webhook, headers: { 'X-Replica': [name] }, timeout: '5s', backoff: '200ms', maxbackoff: '1s',
          ignore: { actions: ['pull'] },
        }],
      },
    } : {}),
    ...(shared.upstream ? { proxy: { upstreams: [{ ...shared.upstream, ttl: '10m' }] } } : {}),
  };
}

export async function startReplicaSet(dir: string, shared: SharedServices, count = 3): Promise<ReplicaSet> {
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const name = `r${i}`;
    const port = await freePort();
    const config = join(dir, `${name}.yml`);
    await writeFile(config, stringify(replicaConfig(name, port, shared)));
    // AWS_CA_BUNDLE (set on this machine) would make the SDK insist on TLS for the http endpoint.
    const env = cleanEnv();
    delete env['AWS_CA_BUNDLE'];
    const replica: Replica = {
      name, port, config, process: undefined,
      async start() {
        replica.process = await startServerProcess({
          label: `berth ${name}`, command: process.execPath, args: [BERTH_BIN, 'serve', config], env, port, timeoutMs: 90_000,
        });
      },
      async kill() {
        const p = replica.process;
        replica.process = undefined;
        if (p) await stopChild(p.child, 'SIGKILL');
      },
      async drain() {
        const p = replica.process;
        replica.process = undefined;
        if (!p) return null;
        const exited = new Promise<number | null>((resolve) => p.child.once('exit', (code) => resolve(code)));
        if (p.child.exitCode !== null) return p.child.exitCode;
        p.child.kill('SIGTERM');
        return exited;
      },
    };
    replicas.push(replica);
  }
  await Promise.all(replicas.map((r) => r.start()));
  const port = await freePort();
  const nginx = await startNginx({
    dir: join(dir, 'nginx'),
    servers: [{ port, upstream: replicas.map((r) => `127.0.0.1:${r.port}`), location: '/', headers: [['Host', '$http_host']] }],
  });
  return {
    replicas, host: `127.0.0.1:${port}`, nginx,
    async stop() {
      await nginx.stop();
      await Promise.all(replicas.map((r) => r.kill()));
    },
  };
}
