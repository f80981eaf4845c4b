// `berth serve`: loads configuration, reports what it will not honour, starts the registry,
// purges stale uploads on Distribution's schedule, and drains on SIGTERM/SIGINT.
import type { FastifyInstance } from 'fastify';
import { loadConfig, parseListenAddress } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { driverFromConfig } from '../storage/from-config.js';
import { Registry } from '../registry/registry.js';
import { ManifestUrlPolicy } from '../registry/manifest-urls.js';
import { buildApp } from '../http/app.js';
import { httpSettingsFrom } from '../http/settings.js';
import { createLogger } from './logger.js';
import { startUploadPurger } from './upload-purger.js';
import { runCollection, startGcSchedules, tagGuardFrom } from '../gc/schedule.js';
import { createGcMetrics } from '../gc/metrics.js';
import { reportSummary } from '../gc/report.js';
import type { GcReport } from '../gc/collector.js';
import { appendAudit } from '../auth/audit.js';
import { auditRetentionDeletion } from '../policy/retention-audit.js';
import { openMetaDatabase } from '../meta/database.js';
import { metadataNeeded, metaOptionsFromConfig } from '../meta/from-config.js';
import { createObservability, type Observability } from './observability.js';
import { startEvictionSchedule } from '../proxy/eviction-schedule.js';
import { startAuth, type AuthService } from '../auth/service.js';
import { unusableEntryWarnings } from '../auth/htpasswd.js';
import { reloadCertificates, tlsServerOptions } from '../http/tls.js';
import { checkKeyFiles } from '../config/key-files.js';
import type { Redis } from '../redis/connect.js';
import { proxyConfigured, pullThroughFromConfig } from '../proxy/from-config.js';
import type { PullThrough } from '../proxy/pull-through.js';
import { startListingFromConfig } from '../meta/listing-from-config.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  observability: Observability;
  auth?: AuthService | undefined;
  /** The pull-through cache, when the proxy section configures one. */
  proxy?: PullThrough | undefined;
  /** Stops accepting, finishes in-flight requests, then flushes event queues until `deadline`. */
  close(deadline?: number): Promise<void>;
}

export async function startServer(config: Config, warnings: string[] = []): Promise<RunningServer> {
  checkKeyFiles(config);
  const logger = createLogger(config);
  for (const w of warnings) logger.warn(`config: ${w}`);
  // One metadata database per server, shared by the features that keep state in it.
  const meta = metadataNeeded(config) ? await openMetaDatabase(metaOptionsFromConfig(config), { warn: (m) => logger.warn(m) }) : undefined;
  // ioredis is loaded only when a `redis` section asks for it.
  const redisModule = config.redis ? await import('../redis/connect.js') : undefined;
  const redis: Redis | undefined = config.redis && redisModule ? await redisModule.openRedis(config.redis, logger) : undefined;
  const obs = await createObservability(config, logger, { ...(meta ? { meta } : {}), ...(redis ? { redis } : {}) });
  const tagGuard = tagGuardFrom(config.gc);
  // Already a checked driver, carrying the capabilities (redirects) the HTTP layer looks for.
  const driver = await driverFromConfig(config, parseDuration, obs.instrumentDriver);
  const listing = meta ? await startListingFromConfig(config, meta, driver, logger) : undefined;
  const core = new Registry(driver, {
    ...(tagGuard ? { tagGuard } : {}), ...(listing ? { index: listing.index } : {}), manifestUrls: new ManifestUrlPolicy(config.validation),
  });
  // Listeners outside the cache: a proxied pull is an event; the cache's own writes are not pushes.
  const proxy = meta && proxyConfigured(config) ? pullThroughFromConfig(config, core, { db: meta.db, metrics: obs.metrics?.registry, logger, redis, scope: obs.scope }) : undefined;
  const registry = obs.decorate(proxy ? proxy.registry : core, driver);
  const auth = await startAuth(config, {
    announce: (text) => process.stderr.write(text), logger, ...(meta ? { meta } : {}), ...(redis ? { redis: { client: redis, logger } } : {}),
  });
  if (config.auth?.htpasswd) for (const w of unusableEntryWarnings(config.auth.htpasswd.path)) logger.warn(w);
  const tls = tlsServerOptions(config);
  const app = await buildApp({
    registry, settings: { ...httpSettingsFrom(config), warnOnce: onceEach((message) => logger.warn(message)) }, logger, accessLog: false, observe: obs.http, auth, tls, gcGraceMs: parseDuration(config.gc.grace),
    ...(proxy ? { alsoRequired: (name, ns) => proxy.mapper.alsoRequired(name, ns) } : {}),
  });
  const filesystemRoot = driver.name === 'filesystem' ? config.storage.filesystem?.rootdirectory : undefined;
  const purger = startUploadPurger(registry, config.storage.maintenance.uploadpurging, logger, {
    readOnly: config.storage.maintenance.readonly.enabled, ...(filesystemRoot ? { filesystemRoot } : {}),
  });
  const recordGcRun = auth
    ? (report: GcReport) => appendAudit(auth.meta.db, { actor: 'gc-schedule', address: '', action: 'gc.run', target: 'registry', detail: reportSummary(report) })
    : undefined;
  const gcMetrics = obs.metrics ? createGcMetrics(obs.metrics.registry) : undefined;
  // The audit log is in the metadata database: kept wherever one is open, with or without auth.
  const gc = startGcSchedules(registry, config.gc, logger, gcMetrics, recordGcRun, meta ? auditRetentionDeletion(meta.db) : undefined);
  // Eviction unlinks; the collector frees the data, so maxsize bounds the disk.
  const collectAfterEviction = config.proxy.eviction.collect ? () => runCollection(core, config.gc, logger, gcMetrics, recordGcRun) : undefined;
  const eviction = startEvictionSchedule(core, meta?.db, config.proxy, logger, obs.metrics?.registry, collectAfterEviction);
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
  return {
    app,
    url,
    observability: obs,
    auth,
    proxy,
    async close(deadline = Date.now() + parseDuration(config.http.draintimeout)) {
      purger.stop();
      gc.stop();
      eviction.stop();
      listing?.stop();
      await app.close();
      // Events not delivered by the deadline stay queued for the next start.
      await obs.close(deadline);
      await auth?.close();
      await proxy?.close();
      await meta?.close();
      if (redis && redisModule) await redisModule.closeRedis(redis);
    },
  };
}

export async function serveCommand(file: string | undefined): Promise<void> {
  const { config, warnings } = loadConfig({ ...(file ? { file } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  const server = await startServer(config, []);
  const drainMs = parseDuration(config.http.draintimeout);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal, drainMs }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      server.app.log.warn('drain timeout reached; closing remaining connections');
      server.app.server.closeAllConnections?.();
    }, drainMs);
    timer.unref();
    server.close(Date.now() + drainMs).then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (config.http.tls) {
    process.on('SIGHUP', () => {
      try {
        reloadCertificates(server.app.server, config);
        server.app.log.info('TLS certificate reloaded');
      } catch (err) {
        server.app.log.error({ err }, 'TLS certificate reload failed; keeping the previous one');
      }
    });
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
