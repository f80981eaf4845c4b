// Which artifact types are signatures, SBOMs or attestations, for the referrer counts the
// console shows as badges. Types not named here are counted under their own name only.
const SIGNATURES = new Set([
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.cncf.notary.signature',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
]);
const SBOMS = new Set([
  'application/spdx+json',
  'text/spdx',
  'application/vnd.cyclonedx+json',
  'application/vnd.cyclonedx+xml',
  'application/vnd.syft+json',
  'application/vnd.dev.cosign.artifact.sbom.v1+json',
]);
const ATTESTATIONS = new Set([
  'application/vnd.in-toto+json',
  'application/vnd.dsse.envelope.v1+json',
  'application/vnd.dev.cosign.artifact.att.v1+json',
]);

export type ReferrerKind = 'signature' | 'sbom' | 'attestation' | 'other';

export function referrerKind(artifactType: string | null): ReferrerKind {
  if (!artifactType) return 'other';
  if (SIGNATURES.has(artifactType)) return 'signature';
  if (SBOMS.has(artifactType)) return 'sbom';
  if (ATTESTATIONS.has(artifactType)) return 'attestation';
  return 'other';
}
