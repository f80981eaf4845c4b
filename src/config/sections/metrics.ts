// `metrics`: Berth's own switch for its Prometheus instruments. Distribution serves /metrics only
// on the debug listener (`http.debug.prometheus`); `mainlistener` also serves it beside /v2/.
import { Type } from '@sinclair/typebox';
import { strict } from './common.js';

export const MetricsSection = Type.Object({
  /** Collect instruments at all; when false, /metrics is served nowhere. When true, they are
   * collected where read: /metrics on a listener, or a pull-through cache (server/observability.ts). */
  enabled: Type.Boolean({ default: true }),
  /** Path of /metrics on the main listener. */
  path: Type.String({ default: '/metrics', pattern: '^/' }),
  /** Serve /metrics on `http.addr` too (it names repositories: off by default). */
  mainlistener: Type.Boolean({ default: false }),
  /** Keep `berth_storage_repository_bytes` (one series per repository; one scan at startup). */
  repositoryusage: Type.Boolean({ default: true }),
}, { ...strict, default: {} });
