// `health`: Distribution's periodic checks (storage driver, files, HTTP, TCP) plus Berth's
// readiness thresholds. /readyz answers 503 naming the failing check.
import { Type } from '@sinclair/typebox';
import { millis, secret, strict } from './common.js';

const periodic = {
  interval: millis('10s'),
  threshold: Type.Integer({ default: 1, minimum: 1 }),
};

export const HealthSection = Type.Object({
  storagedriver: Type.Object({
    enabled: Type.Boolean({ default: false }),
    ...periodic,
  }, { ...strict, default: {} }),
  file: Type.Array(Type.Object({ file: Type.String({ minLength: 1 }), interval: millis('10s') }, strict), { default: [] }),
  http: Type.Array(Type.Object({
    uri: Type.String({ minLength: 1, ...secret('url') }),
    headers: Type.Record(Type.String(), Type.Array(Type.String()), { default: {}, ...secret('headers') }),
    statuscode: Type.Integer({ default: 200 }),
    timeout: millis('3s'),
    ...periodic,
  }, strict), { default: [] }),
  tcp: Type.Array(Type.Object({
    addr: Type.String({ minLength: 1 }),
    timeout: millis('3s'),
    ...periodic,
  }, strict), { default: [] }),
  // Berth's own: what /readyz demands of the storage disk (filesystem driver only).
  disk: Type.Object({
    minfreebytes: Type.Integer({ default: 64 * 1024 * 1024, minimum: 0 }),
    minfreepercent: Type.Number({ default: 0, minimum: 0, maximum: 100 }),
  }, { ...strict, default: {} }),
  /** Longest a live readiness check may take before it counts as failed. */
  checktimeout: millis('5s'),
}, { ...strict, default: {} });
