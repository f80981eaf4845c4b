// Signer identities as a policy names them: the certificate's subject alternative name (a
// glob, so `*@example.com` or `https://github.com/org/*`) and, when given, the OIDC issuer that
// Fulcio records in its certificate extensions.
import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import { globToRegExp } from '../policy/patterns.js';
import type { IdentityRule } from './material.js';

export interface SignerIdentity {
  subject: string | undefined;
  issuer: string | undefined;
}

const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

/** The SAN and Fulcio issuer of a certificate (PEM or DER). */
export function identityOf(cert: string | Buffer): SignerIdentity {
  const parsed = SigstoreCertificate.parse(cert as Buffer<ArrayBuffer>);
  const v2 = parsed.extension(OID_ISSUER_V2);
  // V2 is a DER UTF8String inside the extension's value; V1 is the raw string.
  const issuer = v2 ? v2.valueObj.subs[0]?.value.toString('utf8') : parsed.extension(OID_ISSUER_V1)?.value.toString('utf8');
  return { subject: parsed.subjectAltName, issuer };
}

/** Whether `identity` is one of `rules` (any identity when there are none). */
export function identityAccepted(identity: SignerIdentity, rules: IdentityRule[]): boolean {
  if (rules.length === 0) return true;
  return rules.some((r) => identity.subject !== undefined && globToRegExp(r.subject).test(identity.subject)
    && (r.issuer === undefined || r.issuer === identity.issuer));
}

export function describeIdentity(identity: SignerIdentity): string {
  return `${identity.subject ?? '(no subject)'}${identity.issuer ? ` (issuer ${identity.issuer})` : ''}`;
}
