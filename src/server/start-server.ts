// A serving registry: the assembly, authentication, the HTTP app on its listener, and the
// background schedules once it listens. `berth serve` and the in-process test servers start it.
import type { FastifyInstance } from 'fastify';
import { parseListenAddress } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { checkKeyFiles } from '../config/key-files.js';
import { buildApp } from '../http/app.js';
import { httpSettingsFrom } from '../http/settings.js';
import { tlsServerOptions } from '../http/tls.js';
import type { AuthService } from '../auth/service.js';
import type { PullThrough } from '../proxy/pull-through.js';
import type { ReplicationService } from '../replication/service.js';
import { createLogger } from './logger.js';
import type { Observability } from './observability.js';
import { assemble } from './assemble.js';
import type { TrustService } from '../trust/trust-service.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  observability: Observability;
  auth?: AuthService | undefined;
  /** The pull-through cache, when the proxy section configures one. */
  proxy?: PullThrough | undefined;
  /** Replication's policies and jobs, wherever the metadata database is open. */
  replication?: ReplicationService | undefined;
  /** Content trust, when policies are configured or may be added through the admin API. */
  trust?: TrustService | undefined;
  /** Stops accepting, finishes in-flight requests, then flushes event queues until `deadline`. */
  close(deadline?: number): Promise<void>;
}

export async function startServer(config: Config, warnings: string[] = []): Promise<RunningServer> {
  checkKeyFiles(config);
  const logger = createLogger(config);
  for (const w of warnings) logger.warn(`config: ${w}`);
  const assembly = await assemble(config, { role: 'server', logger });
  const { registry, meta, redis, proxy, driver } = assembly;
  const obs = assembly.observability!;
  let auth: AuthService | undefined;
  let app: FastifyInstance | undefined;
  try {
    // Features not configured are not even loaded (idle memory, start time: bench/README.md).
    if (config.auth) {
      const { startAuth } = await import('../auth/service.js');
      auth = await startAuth(config, {
        announce: (text) => process.stderr.write(text), logger, ...(meta ? { meta } : {}), ...(redis ? { redis: { client: redis, logger } } : {}),
      });
      for (const [name, check] of auth?.checks ?? []) obs.health.addLive(name, check);
      const { unusableEntryWarnings } = await import('../auth/htpasswd.js');
      if (config.auth.htpasswd) for (const w of unusableEntryWarnings(config.auth.htpasswd.path)) logger.warn(w);
    }
    const tls = tlsServerOptions(config);
    app = await buildApp({
      registry, settings: { ...httpSettingsFrom(config), warnOnce: onceEach((message) => logger.warn(message)) }, logger, accessLog: false, observe: obs.http, auth, tls, gcGraceMs: config.gc.grace, tagRestoreMs: config.gc.tagrestore, console: config.ui,
      replication: assembly.replication, trust: assembly.trust, loadTrust: assembly.trustLoader ? () => assembly.trustLoader!.load() : undefined,
      activeTrust: assembly.trustLoader ? () => assembly.trustLoader!.active() : undefined,
      ...(proxy ? { alsoRequired: (name, ns) => proxy.mapper.alsoRequired(name, ns) } : {}),
      ...(proxy ? { upstreams: async () => (await import('../proxy/upstream-report.js')).upstreamReport(proxy, obs.http.metrics?.registry) } : {}),
      ...(assembly.inventory ? { inventory: assembly.inventory } : {}),
    });
    const schedules = await assembly.startSchedules({ auditGcRuns: auth !== undefined });
    let url: string;
    if (config.http.net === 'unix') {
      url = await app.listen({ path: config.http.addr });
    } else {
      const { host, port } = parseListenAddress(config.http.addr);
      url = await app.listen({ host, port });
    }
    await obs.start();
    if (tls) url = url.replace(/^http:/, 'https:');
    logger.info({ url, storage: driver.name }, 'berth is serving the registry API');
    const served = app;
    const signedIn = auth;
    return {
      app: served,
      url,
      observability: obs,
      auth: signedIn,
      proxy,
      replication: assembly.replication,
      trust: assembly.trust,
      async close(deadline = Date.now() + config.http.draintimeout) {
        schedules.stop();
        await served.close();
        await signedIn?.close();
        // Events not delivered by the deadline stay queued for the next start.
        await assembly.close(deadline);
      },
    };
  } catch (err) {
    await app?.close();
    await auth?.close();
    await assembly.close();
    throw err;
  }
}

/** Calls `fn` the first time each message is seen (a misconfiguration is logged once, not per request). */
function onceEach(fn: (message: string) => void): (message: string) => void {
  const seen = new Set<string>();
  return (message) => {
    if (seen.has(message) || seen.size > 100) return;
    seen.add(message);
    fn(message);
  };
}
