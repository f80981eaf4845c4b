// The one configuration schema. It accepts CNCF Distribution's config.yml plus Berth's own
// sections; each section lives in sections/<name>.ts. Keys Distribution knows but Berth does not
// implement are typed `unimplemented()` so startup names them.
import { Type, type Static, type StaticDecode } from '@sinclair/typebox';
import { strict, unimplemented } from './sections/common.js';
import { LogSection } from './sections/log.js';
import { StorageSection, type StorageConfig, type StorageSettings } from './sections/storage.js';
import { HttpSection } from './sections/http.js';
import { AuthSection } from './sections/auth.js';
import { NotificationsSection } from './sections/notifications.js';
import { ProxySection } from './sections/proxy.js';
import { RedisSection } from './sections/redis.js';
import { HealthSection } from './sections/health.js';
import { MiddlewareSection } from './sections/middleware.js';
import { GcSection } from './sections/gc.js';
import { MetaSection } from './sections/meta.js';
import { MetricsSection } from './sections/metrics.js';
import { ValidationSection } from './sections/validation.js';
import { UiSection } from './sections/ui.js';
import { ReplicationSection } from './sections/replication.js';
import { QuotaSection } from './sections/quota.js';
import { TrustSection } from './sections/trust.js';

export { UNIMPLEMENTED } from './sections/common.js';

export const ConfigSchema = Type.Object({
  version: Type.String({ default: '0.1' }),
  log: LogSection,
  loglevel: Type.Optional(Type.String()),
  storage: StorageSection,
  http: HttpSection,
  auth: AuthSection,
  notifications: NotificationsSection,
  proxy: ProxySection,
  redis: RedisSection,
  health: HealthSection,
  middleware: MiddlewareSection,
  reporting: unimplemented('bugsnag and newrelic reporting are not supported'),
  validation: ValidationSection,
  compatibility: unimplemented('schema1 compatibility is not supported'),
  catalog: Type.Object({ maxentries: Type.Integer({ default: 1000, minimum: 1 }) }, { ...strict, default: {} }),
  // Berth's own sections.
  gc: GcSection,
  meta: MetaSection,
  metrics: MetricsSection,
  ui: UiSection,
  replication: ReplicationSection,
  quota: QuotaSection,
  trust: TrustSection,
}, { ...strict, default: {} });

/** The configuration as written (file, environment), with the schema's defaults: what `berth config print` shows. */
export type ConfigInput = Omit<Static<typeof ConfigSchema>, 'storage'> & { storage: StorageConfig };

type Decoded = StaticDecode<typeof ConfigSchema>;

/** The name Distribution's `proxy.remoteurl` upstream has among `proxy.upstreams` once loaded. */
export const DEFAULT_UPSTREAM = 'default';

/** One upstream of the pull-through cache, resolved: durations in ms, `maxsize` in bytes. */
export type UpstreamSettings = Decoded['proxy']['upstreams'][number] & {
  /** Local names under `<prefix>/` are this upstream's; undefined: every name, unchanged (Distribution's remoteurl). */
  prefix: string | undefined;
};

/** `proxy`, resolved: Distribution's remoteurl/username/password/ttl are the upstream "default". */
export interface ProxySettings {
  upstreams: UpstreamSettings[];
  eviction: Decoded['proxy']['eviction'];
}

/**
 * The configuration as features read it (what `loadConfig` returns): durations in milliseconds,
 * sizes in bytes, every upstream in `proxy.upstreams`, the storage driver as a union tagged by
 * `driver`. Features never parse or re-derive defaults.
 */
export type Settings = Omit<Decoded, 'proxy' | 'storage'> & { proxy: ProxySettings; storage: StorageSettings };

/** Features' name for the loaded configuration. */
export type Config = Settings;
