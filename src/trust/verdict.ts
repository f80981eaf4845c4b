// A verdict: whether an image has a signature the policy accepts, found and checked now. Every
// signature found is checked until one passes; the reasons the others failed are kept so an
// operator can see why an image counts as unsigned.
import type { SignatureSource } from './source.js';
import { discoverSignatures, type FoundSignature } from './discover.js';
import type { TrustPolicy } from './policies.js';
import type { Check } from './check.js';
import { checkCosign } from './cosign.js';
import { checkSigstoreBundle } from './sigstore.js';
import { checkNotation } from './notation.js';

export interface Verdict {
  policy: string;
  mode: string;
  repository: string;
  digest: string;
  verified: boolean;
  /** The signature that satisfied the policy. */
  signer?: { kind: FoundSignature['kind']; by: string; via: string; manifest: string; loggedAt?: string };
  /** Signatures found that did not satisfy it, and why. */
  rejected: { kind: FoundSignature['kind']; via: string; manifest: string; reason: string }[];
  unreadable: string[];
  checkedAt: string;
}

export async function judge(source: SignatureSource, repository: string, digest: string, policy: TrustPolicy, manifestBytes?: Buffer, now = new Date()): Promise<Verdict> {
  const found = await discoverSignatures(source, repository, digest);
  const verdict: Verdict = {
    policy: policy.name, mode: policy.mode, repository, digest, verified: false, rejected: [], unreadable: found.unreadable, checkedAt: now.toISOString(),
  };
  let bytes = manifestBytes;
  for (const sig of found.signatures) {
    if (sig.kind === 'sigstore-bundle' && !bytes) bytes = (await source.manifest(repository, digest))?.bytes ?? Buffer.alloc(0);
    const check = await checkOne(sig, digest, policy, bytes ?? Buffer.alloc(0), now);
    if (check.ok) {
      verdict.verified = true;
      verdict.signer = { kind: sig.kind, by: check.by, via: sig.via, manifest: sig.manifest, ...(check.at ? { loggedAt: check.at.toISOString() } : {}) };
      return verdict;
    }
    verdict.rejected.push({ kind: sig.kind, via: sig.via, manifest: sig.manifest, reason: check.reason });
  }
  return verdict;
}

function checkOne(sig: FoundSignature, digest: string, policy: TrustPolicy, manifestBytes: Buffer, now: Date): Check | Promise<Check> {
  switch (sig.kind) {
    case 'cosign':
      return checkCosign(sig.payload, sig.annotations, digest, policy.material, now);
    case 'sigstore-bundle':
      return checkSigstoreBundle(sig.bundle, digest, manifestBytes, policy.material);
    case 'notation':
      return checkNotation(sig.envelope, digest, policy.material, now);
  }
}

/** One line on why a verdict is negative, for refusals and logs. */
export function whyUnverified(v: Verdict): string {
  if (v.rejected.length === 0) return v.unreadable.length > 0 ? `no readable signature (${v.unreadable[0]})` : 'no signature found';
  return v.rejected.map((r) => `${r.kind} ${r.manifest.slice(0, 19)}: ${r.reason}`).join('; ');
}
