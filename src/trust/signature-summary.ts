// The signatures of one artifact as the read API shows them: cosign's `sha256-<hex>.sig` tag and
// the signature referrers (cosign, Sigstore bundles, Notation), each with the signer its
// certificate names: a Notation certificate's subject, a Sigstore or cosign certificate's
// identity (subject alternative name) and OIDC issuer. A key signature names no one ("key").
// This is what the signature claims, not a verdict: whether a policy accepts it is the trust
// service's answer (GET /api/v1/trust/verdict), which the console shows beside it when a policy
// covers the repository.
import { X509Certificate } from 'node:crypto';
import { discoverSignatures, type FoundSignature } from './discover.js';
import { ANNOTATION } from './formats.js';
import type { SignatureSource } from './source.js';
import type { TrustService } from './trust-service.js';

export interface SignatureSummary {
  /** The manifest that carries the signature. */
  manifest: string;
  kind: FoundSignature['kind'];
  /** Under cosign's `.sig` tag, or a referrer (subject). */
  via: 'tag' | 'referrers';
  /** `certificate` when a certificate names the signer; `key` for a bare key signature; `unknown` when unreadable. */
  signedWith: 'certificate' | 'key' | 'unknown';
  /** The certificate's subject (Notation) or subject alternative name (Sigstore, cosign); null for a key. */
  signer: string | null;
  /** The OIDC issuer Fulcio recorded, for keyless Sigstore and cosign certificates. */
  issuer: string | null;
  /** The trust policy's verdict on this signature: null when no policy covers the repository or it was not checked. */
  verified: boolean | null;
  /** Why the policy refused it, or who it accepted (the verdict's words). */
  verdict: string | null;
}

export async function signatureSummaries(source: SignatureSource, repository: string, digest: string, trust?: TrustService): Promise<SignatureSummary[]> {
  const found = await discoverSignatures(source, repository, digest);
  const answer = trust ? await trust.verdict(repository, digest) : undefined;
  const out: SignatureSummary[] = [];
  for (const sig of found.signatures) {
    const who = await signerOf(sig);
    let verified: boolean | null = null;
    let verdict: string | null = null;
    if (answer?.verdict.signer?.manifest === sig.manifest && answer.verdict.signer.kind === sig.kind) {
      verified = true;
      verdict = answer.verdict.signer.by;
    } else {
      const rejected = answer?.verdict.rejected.find((r) => r.manifest === sig.manifest && r.kind === sig.kind);
      if (rejected) { verified = false; verdict = rejected.reason; }
    }
    out.push({ manifest: sig.manifest, kind: sig.kind, via: sig.via, ...who, verified, verdict });
  }
  return out;
}

type Who = Pick<SignatureSummary, 'signedWith' | 'signer' | 'issuer'>;
const UNKNOWN: Who = { signedWith: 'unknown', signer: null, issuer: null };

async function signerOf(sig: FoundSignature): Promise<Who> {
  try {
    switch (sig.kind) {
      case 'notation': {
        const envelope = JSON.parse(sig.envelope.toString('utf8')) as { header?: { x5c?: unknown } };
        const first = Array.isArray(envelope.header?.x5c) ? envelope.header.x5c[0] : undefined;
        if (typeof first !== 'string') return UNKNOWN;
        return { signedWith: 'certificate', signer: distinguishedName(new X509Certificate(Buffer.from(first, 'base64'))), issuer: null };
      }
      case 'sigstore-bundle': {
        const bundle = JSON.parse(sig.bundle.toString('utf8')) as { verificationMaterial?: { certificate?: { rawBytes?: string }; x509CertificateChain?: { certificates?: Array<{ rawBytes?: string }> }; publicKey?: unknown } };
        const m = bundle.verificationMaterial;
        const raw = m?.certificate?.rawBytes ?? m?.x509CertificateChain?.certificates?.[0]?.rawBytes;
        if (raw) return certificateIdentity(Buffer.from(raw, 'base64'));
        return m?.publicKey ? { signedWith: 'key', signer: null, issuer: null } : UNKNOWN;
      }
      case 'cosign': {
        const pem = sig.annotations[ANNOTATION.certificate];
        return pem ? await certificateIdentity(Buffer.from(pem)) : { signedWith: 'key', signer: null, issuer: null };
      }
    }
  } catch {
    return UNKNOWN;
  }
}

async function certificateIdentity(cert: Buffer): Promise<Who> {
  // @sigstore/core reads Fulcio's issuer extensions; loaded only when a certificate is shown.
  const { identityOf } = await import('./identity.js');
  const id = identityOf(cert);
  return { signedWith: 'certificate', signer: id.subject ?? distinguishedName(new X509Certificate(cert)), issuer: id.issuer ?? null };
}

/** A certificate's subject as people write it: most specific first (CN=..., O=..., C=...). */
function distinguishedName(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).reverse().join(', ');
}
