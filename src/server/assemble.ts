// The one place a registry is put together from its configuration: the storage driver, the
// metadata database, Redis, the listing index, the core and (for `berth serve`) observability
// and the pull-through cache. `berth serve` and every one-shot command call it, so a command's
// changes reach the same index and bookkeeping the server answers from (a command that wired its
// own registry once left the listing index naming evicted tags).
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import { driverFromConfig } from '../storage/from-config.js';
import type { StorageDriver } from '../storage/driver.js';
import { Registry } from '../registry/registry.js';
import { ManifestUrlPolicy } from '../registry/manifest-urls.js';
import type { ListingIndex } from '../registry/listing-index.js';
import { StorageListing } from '../registry/storage-listing.js';
import { tagGuardFrom } from '../gc/schedule.js';
import { openMetaDatabase, type MetaDatabase } from '../meta/database.js';
import { metadataNeeded, metaOptionsFromConfig } from '../meta/from-config.js';
import { MetaListingIndex, type ListingLog } from '../meta/listing-index.js';
import { uploadReviews } from '../meta/review-queue.js';
import { startListing } from '../meta/listing-sync.js';
import type { Redis } from '../redis/connect.js';
import type { PullThrough } from '../proxy/pull-through.js';
import type { ReplicationService } from '../replication/service.js';
import { createObservability, type Observability } from './observability.js';
import { MetaUsageReader, type UsageReader } from '../meta/usage.js';
import { quotaFromConfig, withQuota } from '../policy/quota.js';
import { openInventory, type Inventory } from '../inventory/inventory.js';
import { withRetentionHints } from '../policy/retention-hints.js';
import { systemInfo } from '../inventory/system.js';
import { startSchedules, type SchedulesOptions } from './schedules.js';
import type { TrustService } from '../trust/trust-service.js';
import type { TrustLoader } from '../trust/lazy.js';

export interface AssembleOptions {
  /**
   * `server`: the driver is timed, the listing index is built and kept in repair, and the
   * pull-through cache and observability are wired. `command` (the default): the plain pieces a
   * one-shot command changes storage through.
   */
  role?: 'server' | 'command';
  /** Where the pieces log; a command passes its own stderr writer. */
  logger: FastifyBaseLogger;
}

export interface AssembledListing {
  /** What the core lists from (in a server, the storage walk until the index is first built). */
  readonly index: ListingIndex;
  /** The index in the metadata database itself. */
  readonly database: MetaListingIndex;
  /** The storage walk the index is rebuilt and verified from. */
  readonly walk: StorageListing;
}

export interface Assembly {
  readonly config: Config;
  readonly logger: FastifyBaseLogger;
  readonly driver: StorageDriver;
  /** The core, writing through the listing index when there is one. */
  readonly core: Registry;
  /** What the HTTP API serves: the core behind the pull-through cache, with listeners (server role). */
  readonly registry: Registry;
  readonly listing: AssembledListing | undefined;
  readonly meta: MetaDatabase | undefined;
  /** Storage usage per repository and project (kept with the listing index; undefined without it). */
  readonly usage: UsageReader | undefined;
  readonly redis: Redis | undefined;
  /** Server role only. */
  readonly observability: Observability | undefined;
  /** Server role only, when the proxy section configures a cache. */
  readonly proxy: PullThrough | undefined;
  /** Server role only, wherever the metadata database is open: push and pull policies, their jobs. */
  readonly replication: ReplicationService | undefined;
  /** Server role with the listing index: what the read API (/api/v1) serves from. */
  readonly inventory: Inventory | undefined;
  /** Server role only, when `trust` policies are configured or the admin API may add them: verdicts and the guard on manifest reads. */
  readonly trust: TrustService | undefined;
  /** Server role with auth and a metadata database but no policy in config.yml: loads trust when a stored policy appears. */
  readonly trustLoader: TrustLoader | undefined;
  /** Starts the background work (upload purging, GC, retention, cache eviction); `close` stops it. */
  startSchedules(options?: SchedulesOptions): Promise<{ stop(): void }>;
  /** Stops schedules, flushes event queues until `deadline`, and closes every connection. */
  close(deadline?: number): Promise<void>;
}

export async function assemble(config: Config, options: AssembleOptions): Promise<Assembly> {
  const { logger } = options;
  const server = options.role === 'server';
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    // One metadata database per process, shared by the features that keep state in it.
    const meta = metadataNeeded(config) ? await openMetaDatabase(metaOptionsFromConfig(config), { warn: (m) => logger.warn(m) }) : undefined;
    if (meta) closers.push(() => meta.close());
    // ioredis is loaded only when a `redis` section asks for it.
    const redisModule = server && config.redis ? await import('../redis/connect.js') : undefined;
    const redis = config.redis && redisModule ? await redisModule.openRedis(config.redis, logger) : undefined;
    if (redis && redisModule) closers.push(() => redisModule.closeRedis(redis));
    const obs = server ? await createObservability(config, logger, { ...(meta ? { meta } : {}), ...(redis ? { redis } : {}) }) : undefined;
    let deadline: number | undefined;
    if (obs) closers.push(() => obs.close(deadline));
    // Already a checked driver, carrying the capabilities (redirects) the HTTP layer looks for.
    const driver = await driverFromConfig(config, obs?.instrumentDriver);
    const listing = meta && config.meta.index.enabled ? await openListing(config, meta, driver, server, logger) : undefined;
    if (listing) closers.push(listing.stop);
    const tagGuard = server ? tagGuardFrom(config.gc) : undefined;
    const { review } = config.gc;
    const core = new Registry(driver, {
      ...(tagGuard ? { tagGuard } : {}), ...(listing ? { index: listing.index } : {}), manifestUrls: new ManifestUrlPolicy(config.validation),
      // Rows for uploaded blobs go where the other review rows go: only with the reference tables.
      ...(listing && meta ? { uploadReview: uploadReviews(meta.db, review.upload, review.grace) } : {}),
    });
    // The trust guard inside the listeners: a refused read is no pull event.
    // Loaded only where policies can exist (config.yml names some, or the admin API may store
    // some): the Sigstore and JOSE libraries cost startup time.
    // Built before the cache: an upstream's `verify:` judges what the cache fetches.
    const trust = obs && (config.trust.policies.length > 0 || config.trust.notation)
      ? await (await import('../trust/from-config.js')).trustFromConfig(config, { core, logger, observability: obs, meta })
      : undefined;
    // No policy in config.yml but an admin API that may store some: trust is loaded when the
    // first stored policy appears (or an administrator calls a trust route), not at start.
    const trustLoader = !trust && obs && meta && config.auth
      ? new (await import('../trust/lazy.js')).TrustLoader(meta.db, async () => (await (await import('../trust/from-config.js')).trustFromConfig(config, { core, logger, observability: obs, meta }))!)
      : undefined;
    // Listeners outside the cache: a proxied pull is an event; the cache's own writes are not pushes.
    const proxy = server && meta && config.proxy.upstreams.length > 0
      ? (await import('../proxy/from-config.js')).pullThroughFromConfig(config, core, {
        db: meta.db, metrics: obs?.metrics?.registry, logger, redis, ...(obs ? { scope: obs.scope } : {}),
        admission: trust ? (policy) => trust.upstreamVerification(policy, obs?.scope) : undefined,
      })
      : undefined;
    if (proxy) closers.push(() => proxy.close());
    obs?.watchStorage(driver);
    // Loaded only where policies can exist (config.yml names some, or the admin API may add them)
    // or config.yml's endpoints have credentials to store sealed.
    const replication = server && meta && (config.replication.policies.length > 0 || config.replication.endpoints.length > 0 || config.auth !== undefined)
      ? (await import('../replication/from-config.js')).replicationFromConfig(config, { meta, core, logger, metrics: obs?.metrics?.registry })
      : undefined;
    if (replication) closers.push(() => replication.close());
    const usage = meta && listing ? new MetaUsageReader(meta) : undefined;
    if (usage && obs?.metrics) (await import('../gc/usage-metrics.js')).registerUsageMetrics(obs.metrics.registry, usage);
    const quota = server ? quotaFromConfig(config.quota, usage, (m) => logger.warn(m), meta) : undefined;
    const inventory = server && listing && meta ? openInventory(meta, core, logger, { usage, system: systemInfo(config, driver.name, meta.dialect) }) : undefined;
    if (inventory) closers.push(() => inventory.close());
    const inner = proxy ? proxy.registry : core;
    const judgedAtFetch = proxy?.upstreams.some((u) => u.admission)
      ? async (name: string, ns: string | undefined) => (await proxy.mapper.route(name, ns))?.upstream.admission !== undefined
      : undefined;
    const judged = trust ? trust.guard(inner, obs!.scope, judgedAtFetch) : trustLoader ? trustLoader.guard(inner, obs!.scope, judgedAtFetch) : inner;
    const served = obs ? obs.decorate(judged, [...(replication ? [replication.listener] : []), ...(inventory ? [inventory.recorder.listener()] : [])]) : core;
    const limited = quota ? withQuota(served, quota) : served;
    const registry = server && meta && listing ? withRetentionHints(limited, meta.db) : limited;
    replication?.attach(registry);
    return {
      config, logger, driver, core, registry, listing, meta, usage, redis, observability: obs, proxy, replication, inventory, trust, trustLoader,
      async startSchedules(schedules = {}) {
        const running = await startSchedules({ config, logger, driver, core, registry, meta, observability: obs, inventory }, schedules);
        closers.push(running.stop);
        replication?.start().catch((err: unknown) => logger.error({ err }, 'replication did not start'));
        return running;
      },
      async close(until) {
        deadline = until;
        await close();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function openListing(config: Config, meta: MetaDatabase, driver: StorageDriver, server: boolean, log: ListingLog) {
  const walk = new StorageListing(driver);
  if (!server) {
    const database = new MetaListingIndex(meta, walk, { log });
    return { index: database, database, walk, stop: () => {} };
  }
  const options = metaOptionsFromConfig(config);
  if ('sqlite' in options && options.sqlite.path === ':memory:' && config.storage.s3) {
    log.warn({}, 'listing index: in memory, so rebuilt from the bucket at every start; set meta.sqlite.path or meta.postgres.url to keep it');
  }
  // Built on first start, repaired at start and every meta.index.resyncinterval.
  const service = await startListing(meta, walk, { log, resyncIntervalMs: config.meta.index.resyncinterval });
  return { index: service.index, database: service.database, walk, stop: service.stop };
}
