// Media types the registry understands, and which of them are manifests or indexes.

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  /** The OCI non-distributable layer (also `+gzip`, `+zstd`; deprecated by image-spec 1.1, still pushed). */
  ociNonDistributableLayer: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type ManifestKind = 'image' | 'index';

const MANIFEST_KINDS: Readonly<Record<string, ManifestKind>> = {
  [MediaType.ociManifest]: 'image',
  [MediaType.dockerManifest]: 'image',
  [MediaType.ociIndex]: 'index',
  [MediaType.dockerManifestList]: 'index',
};

export function manifestKindOf(mediaType: string): ManifestKind | undefined {
  // Own keys only: "constructor" or "toString" must not find Object.prototype's members.
  return Object.hasOwn(MANIFEST_KINDS, mediaType) ? MANIFEST_KINDS[mediaType] : undefined;
}

export const SUPPORTED_MANIFEST_TYPES = Object.keys(MANIFEST_KINDS);

/** Strips parameters (`; charset=utf-8`) and case from a Content-Type header. */
export function baseMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
