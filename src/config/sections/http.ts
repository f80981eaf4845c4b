// `http`: listener, URLs, headers and request limits.
import { Type } from '@sinclair/typebox';
import { millis, secret, strict } from './common.js';
import { Http2Section, TlsSection } from './tls.js';
import { DebugSection } from './debug.js';

export const HttpSection = Type.Object({
  addr: Type.String({ default: ':5000' }),
  net: Type.Union([Type.Literal('tcp'), Type.Literal('unix')], { default: 'tcp' }),
  prefix: Type.String({ default: '' }),
  host: Type.String({ default: '' }),
  secret: Type.Optional(Type.String(secret())),
  relativeurls: Type.Boolean({ default: false }),
  draintimeout: millis('10s'),
  headers: Type.Record(Type.String(), Type.Array(Type.String()), { default: {} }),
  cors: Type.Object({
    allowedorigins: Type.Array(Type.String(), { default: [] }),
    maxage: Type.Integer({ default: 600, minimum: 0 }),
  }, { ...strict, default: {} }),
  limits: Type.Object({
    maxmanifestbytes: Type.Integer({ default: 4 * 1024 * 1024, minimum: 1024 }),
    maxheaderbytes: Type.Integer({ default: 16 * 1024, minimum: 1024 }),
    /**
     * Open connections one client address may hold at once; more are closed on accept.
     * Addresses in http.trustedproxies are not limited (they carry many clients). 0: no limit.
     */
    maxconnectionsperclient: Type.Integer({ default: 256, minimum: 0 }),
  }, { ...strict, default: {} }),
  timeouts: Type.Object({
    /**
     * How long a request body may go without a byte arriving before the request is answered
     * 408 and its connection closed. A body that keeps moving is never cut, however long it
     * takes in total. "0" turns it off.
     */
    bodyidle: millis('60s'),
    /**
     * How long a client may take to send a request's head (request line and headers) before
     * it is answered 408 and its connection closed: what keeps slowloris clients from holding
     * connections. "0" turns it off.
     */
    header: millis('60s'),
  }, { ...strict, default: {} }),
  tls: TlsSection,
  /**
   * Reverse proxies (addresses or CIDRs) whose forwarding headers are believed: the client is
   * the first hop, from the right, that is not one of them.
   */
  trustedproxies: Type.Array(Type.String(), { default: [] }),
  /** The header those proxies append the client's address to (Berth's key). */
  forwardedheader: Type.Union([Type.Literal('x-forwarded-for'), Type.Literal('forwarded')], { default: 'x-forwarded-for' }),
  debug: DebugSection,
  http2: Http2Section,
}, { ...strict, default: {} });
