// The one configuration schema. It accepts CNCF Distribution's config.yml plus Berth's own
// sections; each section lives in sections/<name>.ts. Keys Distribution knows but Berth does not
// implement are typed `unimplemented()` so startup names them.
import { Type, type Static } from '@sinclair/typebox';
import { strict, unimplemented } from './sections/common.js';
import { LogSection } from './sections/log.js';
import { StorageSection, type StorageConfig } from './sections/storage.js';
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
}, { ...strict, default: {} });

/** The configuration as loaded: the schema's shape, with the storage driver as a tagged union. */
export type Config = Omit<Static<typeof ConfigSchema>, 'storage'> & { storage: StorageConfig };
