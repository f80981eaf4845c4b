// `ui`: Berth's web console, served by `berth serve` on the registry's own listener under `path`
// (after `http.prefix`). Signing in to it starts a session kept in the metadata database.
import { Type } from '@sinclair/typebox';
import { millis, strict } from './common.js';

export const UiSection = Type.Object({
  /** Serve the console at all (its pages and its sign-in). */
  enabled: Type.Boolean({ default: true }),
  /** Where the console lives: one or more plain path segments, never /v2 or the APIs. */
  path: Type.String({ default: '/ui', pattern: '^(/[A-Za-z0-9._~-]+)+$' }),
  session: Type.Object({
    /** A session ends this long after sign-in, used or not. */
    maxage: millis('12h'),
    /** A session not used for this long ends. */
    idle: millis('1h'),
  }, { ...strict, default: {} }),
}, { ...strict, default: {} });
