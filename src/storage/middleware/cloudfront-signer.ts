// CloudFront signed URLs with a canned policy: Expires, Signature (RSA-SHA1 over the policy, in
// CloudFront's URL-safe base64: + -> -, = -> _, / -> ~) and Key-Pair-Id.
import { createSign, type KeyObject } from 'node:crypto';

export function cannedPolicy(resource: string, expiresEpoch: number): string {
  return JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expiresEpoch } } }] });
}

export function cloudFrontBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
}

export function fromCloudFrontBase64(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
}

export function signCannedPolicy(policy: string, privateKey: KeyObject): Buffer {
  return createSign('RSA-SHA1').update(policy).sign(privateKey);
}

/** The URL with its canned-policy query: valid until `expires` (whole seconds, as CloudFront reads it). */
export function cloudFrontSignedUrl(url: string, expires: Date, keyPairId: string, privateKey: KeyObject): string {
  const epoch = Math.floor(expires.getTime() / 1000);
  const signature = cloudFrontBase64(signCannedPolicy(cannedPolicy(url, epoch), privateKey));
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}Expires=${epoch}&Signature=${signature}&Key-Pair-Id=${encodeURIComponent(keyPairId)}`;
}
