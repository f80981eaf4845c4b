// `notifications`: Distribution's webhook endpoints. Events wait in a per-endpoint queue in the
// metadata database, so none is lost across a restart or while an endpoint is down.
import { Type } from '@sinclair/typebox';
import { millis, secret, strict, unimplemented } from './common.js';

const Endpoint = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  disabled: Type.Boolean({ default: false }),
  url: Type.String({ pattern: '^https?://', ...secret('url') }),
  headers: Type.Record(Type.String(), Type.Array(Type.String()), { default: {}, ...secret('headers') }),
  timeout: millis('1s'),
  /** Consecutive failures after which the endpoint counts as down and backoff grows. */
  threshold: Type.Integer({ default: 10, minimum: 1 }),
  backoff: millis('1s'),
  ignoredmediatypes: Type.Array(Type.String(), { default: [] }),
  ignore: Type.Object({
    mediatypes: Type.Array(Type.String(), { default: [] }),
    actions: Type.Array(Type.String(), { default: [] }),
  }, { ...strict, default: {} }),
  // Berth's own: Distribution retries forever in memory; a persisted queue needs an end.
  /** Longest wait between two attempts. */
  maxbackoff: millis('5m'),
  /** Attempts after which an event moves to the dead-letter list (0: never). */
  maxattempts: Type.Integer({ default: 50, minimum: 0 }),
  /** Events sent in one envelope at most. */
  batchsize: Type.Integer({ default: 50, minimum: 1, maximum: 1000 }),
}, strict);

export const NotificationsSection = Type.Object({
  events: Type.Object({
    includereferences: unimplemented('events.includereferences is not implemented; events carry no references'),
  }, { ...strict, default: {} }),
  endpoints: Type.Array(Endpoint, { default: [] }),
}, { ...strict, default: {} });
