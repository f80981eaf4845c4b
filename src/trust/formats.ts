// The media types, annotation keys and tag names by which signing tools store signatures in a
// registry: cosign's tag scheme and referrers (specs/SIGNATURE_SPEC.md), Sigstore bundles
// (cosign v3, specs/BUNDLE_SPEC.md) and the Notary Project's signature specification.
import type { Digest } from '../oci/digest.js';
import type { ParsedManifest } from '../oci/manifest.js';

export const COSIGN_SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const SIGSTORE_BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const NOTATION_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
export const NOTATION_JWS = 'application/jose+json';
export const NOTATION_PAYLOAD = 'application/vnd.cncf.notary.payload.v1+json';
export const IN_TOTO = 'application/vnd.in-toto+json';

export const ANNOTATION = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
} as const;

/** cosign's simple-signing type (`critical.type`). */
export const COSIGN_PAYLOAD_TYPE = 'cosign container image signature';

/** The tag cosign stores an image's signatures under: `sha256-<hex>.sig`. */
export function cosignSignatureTag(digest: Digest): string {
  return `${digest.algorithm}-${digest.hex}.sig`;
}

/** Artifact types whose manifests are signatures: never the subject of a trust policy. */
export const SIGNATURE_ARTIFACT_TYPES: ReadonlySet<string> = new Set([COSIGN_ARTIFACT_TYPE, SIGSTORE_BUNDLE, NOTATION_ARTIFACT_TYPE, COSIGN_SIMPLE_SIGNING]);

/**
 * Tags signing tools read and write beside an image: cosign's `.sig`/`.att`/`.sbom` tags and
 * the referrers tag schema (`sha256-<hex>`).
 */
export function isSignatureTag(tag: string): boolean {
  const dash = tag.indexOf('-');
  if (dash <= 0) return false;
  const alg = tag.slice(0, dash);
  if (alg !== 'sha256' && alg !== 'sha512') return false;
  const rest = tag.slice(dash + 1);
  const dot = rest.indexOf('.');
  const hex = dot === -1 ? rest : rest.slice(0, dot);
  const suffix = dot === -1 ? '' : rest.slice(dot);
  return hex.length === (alg === 'sha256' ? 64 : 128) && /^[0-9a-f]+$/.test(hex) && ['', '.sig', '.att', '.sbom'].includes(suffix);
}

/** The subject digest a signature tag (`sha256-<hex>.sig`) belongs to, if it is one. */
export function subjectOfSignatureTag(tag: string): string | undefined {
  if (!isSignatureTag(tag)) return undefined;
  const dash = tag.indexOf('-');
  const dot = tag.indexOf('.');
  return `${tag.slice(0, dash)}:${tag.slice(dash + 1, dot === -1 ? undefined : dot)}`;
}

/** Signatures, attestations and other referrers are never the subject of a policy. */
export function isSignatureArtifact(parsed: ParsedManifest | undefined): boolean {
  if (!parsed) return false;
  if (parsed.subject || (parsed.artifactType && SIGNATURE_ARTIFACT_TYPES.has(parsed.artifactType))) return true;
  const layers = parsed.kind === 'image' ? parsed.blobs.slice(1) : [];
  return layers.length > 0 && layers.every((l) => l.mediaType === COSIGN_SIMPLE_SIGNING);
}
