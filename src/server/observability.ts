// Builds the observability of one server from its configuration: the Prometheus registry and
// instruments, the storage-timing and registry-listener decorators, health checks, the debug
// listener and the notification queues. The assembly (assemble.ts) calls it for a server.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { parseListenAddress } from '../config/load.js';
import type { StorageDriver } from '../storage/driver.js';
import type { Registry } from '../registry/registry.js';
import type { Metrics } from '../metrics/metrics.js';
import { InstrumentedDriver } from '../metrics/instrumented-driver.js';
import { RegistryMetrics } from '../metrics/registry-metrics.js';
import { RequestScope } from '../events/request-scope.js';
import { withListeners, type RegistryListener } from '../events/registry-listener.js';
import { Health } from '../health/health.js';
import * as checks from '../health/checks.js';
import type { HttpObservability } from '../http/observability.js';
import { buildDebugServer } from '../http/debug-server.js';
import type { MetaDatabase } from '../meta/database.js';
import { metaOptionsFromConfig } from '../meta/from-config.js';
import { Notifier } from '../events/notifier.js';
import { endpointsFromConfig } from '../events/from-config.js';

export interface Observability {
  /** Undefined when `metrics.enabled` is false or nothing reads them (`metricsRead`). Other features register instruments here. */
  readonly metrics: Metrics | undefined;
  readonly health: Health;
  readonly scope: RequestScope;
  readonly instanceId: string;
  /** The metadata database, when notifications opened it. */
  readonly meta: MetaDatabase | undefined;
  readonly notifier: Notifier | undefined;
  /** The driver, timed. */
  instrumentDriver(driver: StorageDriver): StorageDriver;
  /** The registry with listeners (metrics, notifications) around its services. */
  decorate(registry: Registry, extraListeners?: RegistryListener[]): Registry;
  /** Adds the storage health checks (writable, disk free, the periodic driver check). */
  watchStorage(driver: StorageDriver): void;
  /** What buildApp installs on the main listener. */
  readonly http: HttpObservability;
  /** Starts background work (checks, scan, debug listener). */
  start(): Promise<void>;
  /** Stops background work; queued events are flushed until `deadline` (ms since the epoch). */
  close(deadline?: number): Promise<void>;
}

export interface ObservabilityOptions {
  /** An already open metadata database to keep the event queues in. */
  meta?: MetaDatabase;
  /** The replicas' shared Redis, checked by /readyz. */
  redis?: { ping(): Promise<string> };
}

/**
 * Whether this server collects Prometheus instruments: `metrics.enabled` and something can read
 * them, i.e. /metrics on the main listener (`metrics.mainlistener`) or on the debug listener
 * (`http.debug.addr` with `http.debug.prometheus.enabled`), or the console's Upstreams page (the
 * pull-through cache's counters). Otherwise prom-client, and the OpenTelemetry API its process
 * metrics require, are not loaded at all: ~100 of the ~530 modules a default start loaded (issue 22).
 */
export function metricsRead(config: Config): boolean {
  if (!config.metrics.enabled) return false;
  const debug = config.http.debug.addr !== '' && config.http.debug.prometheus.enabled;
  return config.metrics.mainlistener || debug || config.proxy.upstreams.length > 0;
}

export async function createObservability(config: Config, logger: FastifyBaseLogger, options: ObservabilityOptions = {}): Promise<Observability> {
  const metrics = metricsRead(config) ? (await import('../metrics/metrics.js')).createMetrics() : undefined;
  const registryMetrics = metrics ? new RegistryMetrics(metrics, { repositoryUsage: config.metrics.repositoryusage }) : undefined;
  const scope = new RequestScope();
  const instanceId = randomUUID();
  const health = new Health({ timeoutMs: config.health.checktimeout });
  const endpoints = endpointsFromConfig(config);
  const ownMeta = endpoints.length > 0 && !options.meta;
  // Loaded on demand: Kysely costs a noticeable part of startup, and without endpoints nothing needs it.
  const meta = options.meta ?? (ownMeta ? await (await import('../meta/database.js')).openMetaDatabase(metaOptionsFromConfig(config)) : undefined);
  if (meta) health.addLive('metadata', checks.metaReachable(meta.db));
  if (options.redis) health.addLive('redis', checks.redisAnswers(options.redis));
  let notifier: Notifier | undefined;
  if (meta && endpoints.length > 0) {
    const observer = metrics ? (await import('../events/notifications-metrics.js')).notificationsMetrics(metrics.registry, () => notifier?.queue, endpoints.map((e) => e.name)) : undefined;
    notifier = new Notifier(meta.db, endpoints, { addr: sourceAddr(config), instanceID: instanceId }, logger, observer);
  }
  const scanAbort = new AbortController();
  let registry: Registry | undefined;
  let debug: FastifyInstance | undefined;
  const http: HttpObservability = {
    scope, health, accessLog: !config.log.accesslog.disabled,
    ...(metrics ? { metrics } : {}),
    ...(metrics && config.metrics.mainlistener ? { metricsPath: config.metrics.path } : {}),
  };
  return {
    metrics, health, scope, instanceId, http, meta, notifier,
    instrumentDriver: (driver) => (metrics ? new InstrumentedDriver(driver, metrics) : driver),
    decorate(base, extra = []) {
      registry = withListeners(base, scope, [...(registryMetrics ? [registryMetrics] : []), ...(notifier ? [notifier] : []), ...extra]);
      return registry;
    },
    watchStorage: (driver) => addHealthChecks(health, config, driver, instanceId),
    async start() {
      health.start();
      notifier?.start();
      if (registry && registryMetrics) {
        const r = registry;
        registryMetrics.scan(r, scanAbort.signal).catch((err: unknown) => logger.warn({ err }, 'metrics: repository usage scan failed'));
      }
      if (config.http.debug.addr) {
        const prom = config.http.debug.prometheus;
        debug = await buildDebugServer({ logger, health, metrics, metricsPath: prom.enabled ? prom.path : undefined });
        const { host, port } = parseListenAddress(config.http.debug.addr);
        const url = await debug.listen({ host, port });
        logger.info({ url }, 'debug listener serving health and metrics');
      }
    },
    async close(deadline = Date.now() + 5000) {
      scanAbort.abort();
      health.stop();
      await notifier?.close(deadline);
      await debug?.close();
      if (ownMeta) await meta?.close();
    },
  };
}

function addHealthChecks(health: Health, config: Config, driver: StorageDriver, instanceId: string): void {
  health.addLive('storage', checks.storageWritable(driver, instanceId));
  const root = config.storage.filesystem?.rootdirectory;
  if (root && config.storage.inmemory === undefined) {
    health.addLive('disk', checks.diskFree(root, config.health.disk.minfreebytes, config.health.disk.minfreepercent));
  }
  const h = config.health;
  if (h.storagedriver.enabled) {
    health.addPeriodic(`storagedriver_${driver.name}`, checks.storageDriverAnswers(driver), periodic(h.storagedriver));
  }
  for (const f of h.file) health.addPeriodic(`file:${f.file}`, checks.fileAbsent(f.file), periodic({ interval: f.interval, threshold: 1 }));
  for (const c of h.http) {
    health.addPeriodic(`http:${c.uri}`, checks.httpAnswers(c.uri, c.headers, c.statuscode, c.timeout), periodic(c));
  }
  for (const c of h.tcp) health.addPeriodic(`tcp:${c.addr}`, checks.tcpConnects(c.addr, c.timeout), periodic(c));
}

function periodic(c: { interval: number; threshold: number }) {
  return { intervalMs: c.interval, threshold: c.threshold };
}

/** Distribution's `source.addr`: this host and the port it serves on. */
export function sourceAddr(config: Config): string {
  const port = config.http.net === 'tcp' ? config.http.addr.slice(config.http.addr.lastIndexOf(':') + 1) : '';
  return port ? `${hostname()}:${port}` : hostname();
}
