// `redis`: Distribution's keys for the Redis shared by several replicas. Berth keeps the
// failed-login counts there (so a limit holds across replicas) and checks it in /readyz.
// ioredis multiplexes commands over one connection per replica, so the `pool` keys are accepted
// for Distribution's configs but size nothing.
import { Type, type StaticDecode } from '@sinclair/typebox';
import { millis, secret, strict } from './common.js';

export const RedisSection = Type.Optional(Type.Object({
  /** host:port */
  addr: Type.String({ minLength: 1 }),
  password: Type.Optional(Type.String(secret())),
  db: Type.Integer({ default: 0, minimum: 0 }),
  /** Longest a connection may take to open. */
  dialtimeout: millis('5s'),
  /** Longest a command may wait for its answer (Berth applies the larger of read and write). */
  readtimeout: millis('1s'),
  writetimeout: millis('1s'),
  pool: Type.Object({
    maxidle: Type.Integer({ default: 0, minimum: 0 }),
    maxactive: Type.Integer({ default: 0, minimum: 0 }),
    idletimeout: millis('300s'),
  }, { ...strict, default: {} }),
  tls: Type.Object({ enabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
}, strict));

/** Resolved: timeouts in ms. */
export type RedisConfig = NonNullable<StaticDecode<typeof RedisSection>>;
