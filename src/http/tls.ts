// TLS termination: Distribution's http.tls keys (certificate, key, clientcas for mutual TLS,
// minimumtls, ciphersuites), HTTP/2 with HTTP/1.1 fallback unless http.http2.disabled, and a
// certificate reload (SIGHUP) that swaps the secure context: connections already open keep theirs.
import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { Config } from '../config/schema.js';
import { opensslCiphers } from '../config/tls-ciphers.js';

export interface TlsServerOptions {
  http2: boolean;
  https: SecureContextOptions & { allowHTTP1?: boolean; requestCert?: boolean; rejectUnauthorized?: boolean };
}

/** Fastify server options for TLS, or undefined when `http.tls` is absent. */
export function tlsServerOptions(config: Config): TlsServerOptions | undefined {
  const tls = config.http.tls;
  if (!tls) return undefined;
  const mutual = tls.clientcas.length > 0;
  return {
    http2: !config.http.http2.disabled,
    https: {
      ...secureContext(config),
      ...protocolOptions(config),
      ...(config.http.http2.disabled ? {} : { allowHTTP1: true }),
      ...(mutual ? { requestCert: true, rejectUnauthorized: true } : {}),
    },
  };
}

/** The certificate, key and client CAs, read from disk now. */
export function secureContext(config: Config): SecureContextOptions {
  const tls = config.http.tls;
  if (!tls) return {};
  return {
    cert: readFileSync(tls.certificate),
    key: readFileSync(tls.key),
    ...(tls.clientcas.length > 0 ? { ca: tls.clientcas.map((f) => readFileSync(f)) } : {}),
  };
}

/** Protocol versions and TLS 1.2 ciphers (translated from Go's names; checked at config load). */
function protocolOptions(config: Config): SecureContextOptions {
  const tls = config.http.tls;
  if (!tls) return {};
  const ciphers = opensslCiphers(tls.ciphersuites, tls.minimumtls === 'tls1.3');
  if ('problems' in ciphers) throw new Error(ciphers.problems.join('; '));
  return { minVersion: tls.minimumtls === 'tls1.3' ? 'TLSv1.3' : 'TLSv1.2', ciphers: ciphers.ciphers };
}

interface SecureServer { setSecureContext(options: SecureContextOptions): void }

/** Re-reads the files into the running server; throws (and keeps the old context) if they are bad. */
export function reloadCertificates(server: unknown, config: Config): void {
  const target = server as Partial<SecureServer>;
  if (typeof target.setSecureContext !== 'function') throw new Error('the server does not terminate TLS');
  // The new context is built from scratch: without the ciphers it would fall back to Node's list.
  target.setSecureContext({ ...secureContext(config), ...protocolOptions(config) });
}
