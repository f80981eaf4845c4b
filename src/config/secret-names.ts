// The one rule for names that carry credentials, wherever a name is all we have to go on: query
// parameters in logs, header names, and keys no schema describes (Distribution sections Berth
// ignores, log.fields). A rule rather than a list, so `X-Amz-Security-Token`, `private_token`
// and `client_secret` are caught without being enumerated; it errs towards censoring.

/** Whole names that are credentials only on their own (`sig` in Azure SAS, `code` in OAuth). */
const EXACT = new Set(['sig', 'code', 'key', 'pw', 'otp']);

/** Parts that make a name a credential wherever they appear (`key` only at the end: `apikey`, not `keypairid`). */
const PARTS = /token|secret|pass|pwd|signature|credential|auth|cookie|session|jwt|assertion|hmac|key$/;

/** Whether a query parameter, header or configuration key of this name holds a secret. */
export function looksSecret(name: string): boolean {
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return EXACT.has(n) || PARTS.test(n);
}
