// `http.debug`: Distribution's debug server. Berth serves /metrics there when
// `prometheus.enabled`, and the health endpoints (/healthz, /readyz) whenever `addr` is set.
import { Type } from '@sinclair/typebox';
import { strict } from './common.js';

export const DebugSection = Type.Object({
  /** host:port of the debug listener; empty: no debug listener. */
  addr: Type.String({ default: '' }),
  prometheus: Type.Object({
    enabled: Type.Boolean({ default: false }),
    path: Type.String({ default: '/metrics', pattern: '^/' }),
  }, { ...strict, default: {} }),
}, { ...strict, default: {} });
