// http.tls.ciphersuites: Distribution takes Go's names (IANA's, e.g.
// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); Node's TLS is OpenSSL, which knows the same suites
// by other names and silently drops names it does not know (every handshake then fails). So
// names are translated here, and a name not in the table is a configuration error.
//
// As in Go, the list governs TLS 1.2 only: TLS 1.3 suites are all AEAD with forward secrecy,
// always on, and their names are accepted (registry:2 configs list them) and have no effect.

/** Go's TLS 1.0-1.2 suites (crypto/tls, and Distribution's table), IANA name -> OpenSSL name. */
const TLS12: Record<string, string> = {
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // Go's older spellings of the two above, still accepted by crypto/tls.
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};

const TLS13 = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

/** OpenSSL's names of the same suites, accepted as they are (earlier Berth configs used them). */
const OPENSSL = new Set(Object.values(TLS12));

/**
 * The default for TLS 1.2: ECDHE (forward secrecy) with AEAD ciphers only, no static-RSA key
 * exchange and no CBC, as Distribution's own default list.
 */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export type CipherTranslation = { ciphers: string } | { problems: string[] };

/**
 * OpenSSL's cipher list for `names` (undefined or empty: the default), or what is wrong with
 * them. With `tls13Only` (http.tls.minimumtls tls1.3) no TLS 1.2 suite is needed.
 */
export function opensslCiphers(names: string[] | undefined, tls13Only = false): CipherTranslation {
  if (!names || names.length === 0) return { ciphers: DEFAULT_TLS12_CIPHERS };
  const problems: string[] = [];
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    const mapped = TLS12[name.toUpperCase()] ?? (OPENSSL.has(name.toUpperCase()) ? name.toUpperCase() : undefined);
    if (mapped !== undefined) {
      if (!out.includes(mapped)) out.push(mapped);
    } else if (!TLS13.has(name.toUpperCase())) {
      problems.push(`http.tls.ciphersuites: unknown cipher suite "${raw}" (use Go/IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)`);
    }
  }
  if (problems.length > 0) return { problems };
  if (out.length === 0 && tls13Only) return { ciphers: DEFAULT_TLS12_CIPHERS };
  if (out.length === 0) {
    return { problems: ['http.tls.ciphersuites: lists only TLS 1.3 suites, which cannot be chosen (they are always on); name the TLS 1.2 suites to allow, or leave the key out'] };
  }
  return { ciphers: out.join(':') };
}
