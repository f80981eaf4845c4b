// `http`: listener, URLs, headers and request limits.
import { Type } from '@sinclair/typebox';
import { duration, secret, strict } from './common.js';
import { Http2Section, TlsSection } from './tls.js';
import { DebugSection } from './debug.js';

export const HttpSection = Type.Object({
  addr: Type.String({ default: ':5000' }),
  net: Type.Union([Type.Literal('tcp'), Type.Literal('unix')], { default: 'tcp' }),
  prefix: Type.String({ default: '' }),
  host: Type.String({ default: '' }),
  secret: Type.Optional(Type.String(secret())),
  relativeurls: Type.Boolean({ default: false }),
  draintimeout: duration('10s'),
  headers: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
  cors: Type.Object({
    allowedorigins: Type.Array(Type.String(), { default: [] }),
    maxage: Type.Integer({ default: 600, minimum: 0 }),
  }, { ...strict, default: {} }),
  limits: Type.Object({
    maxmanifestbytes: Type.Integer({ default: 4 * 1024 * 1024, minimum: 1024 }),
    maxheaderbytes: Type.Integer({ default: 16 * 1024, minimum: 1024 }),
  }, { ...strict, default: {} }),
  tls: TlsSection,
  /** Proxies (addresses or CIDRs) whose first X-Forwarded-For hop is believed. */
  trustedproxies: Type.Array(Type.String(), { default: [] }),
  debug: DebugSection,
  http2: Http2Section,
}, { ...strict, default: {} });
