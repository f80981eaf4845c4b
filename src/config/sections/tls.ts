// `http.tls` and `http.http2`: TLS termination in Berth itself (Distribution's keys), with
// mutual TLS when `clientcas` is set. HTTP/2 is offered whenever TLS is on.
import { Type } from '@sinclair/typebox';
import { secret, strict, unimplemented } from './common.js';

export const TlsSection = Type.Optional(Type.Object({
  certificate: Type.String({ minLength: 1 }),
  key: Type.String({ minLength: 1, ...secret('path') }),
  /** CA certificates that client certificates must chain to; setting it requires one. */
  clientcas: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  minimumtls: Type.Union([Type.Literal('tls1.2'), Type.Literal('tls1.3')], { default: 'tls1.2' }),
  ciphersuites: Type.Optional(Type.Array(Type.String())),
  letsencrypt: unimplemented('Let\'s Encrypt certificates are not implemented: give http.tls.certificate and key'),
}, strict));

export const Http2Section = Type.Object({
  disabled: Type.Boolean({ default: false }),
}, { ...strict, default: {} });
