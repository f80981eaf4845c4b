// Builders for test content: random blobs, image manifests, indexes and artifacts with their digests.
import { createHash, randomBytes } from 'node:crypto';

export interface Blob {
  data: Buffer;
  digest: string;
  size: number;
}

export function blob(data: Buffer | string = randomBytes(1024)): Blob {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return { data: buf, digest: sha256(buf), size: buf.length };
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface Manifest {
  body: Buffer;
  digest: string;
  mediaType: string;
  json: Record<string, unknown>;
}

function manifest(json: Record<string, unknown>, mediaType: string): Manifest {
  const body = Buffer.from(JSON.stringify(json));
  return { body, digest: sha256(body), mediaType, json };
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export function imageManifest(config: Blob, layers: Blob[], extra: Record<string, unknown> = {}, mediaType = OCI_MANIFEST): Manifest {
  const docker = mediaType === DOCKER_MANIFEST;
  return manifest({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((l) => ({
      mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: l.digest, size: l.size,
    })),
    ...extra,
  }, mediaType);
}

export function indexManifest(children: Manifest[], mediaType = OCI_INDEX): Manifest {
  return manifest({
    schemaVersion: 2,
    mediaType,
    manifests: children.map((c, i) => ({
      mediaType: c.mediaType, digest: c.digest, size: c.body.length,
      platform: { architecture: i === 0 ? 'amd64' : 'arm64', os: 'linux' },
    })),
  }, mediaType);
}

export const EMPTY_CONFIG = blob('{}');

/** An OCI 1.1 artifact that refers to `subject`. */
export function artifact(subject: Manifest, artifactType: string, layer: Blob, annotations?: Record<string, string>): Manifest {
  return manifest({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size },
    layers: [{ mediaType: 'application/octet-stream', digest: layer.digest, size: layer.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length },
    ...(annotations ? { annotations } : {}),
  }, OCI_MANIFEST);
}

export function randomBlob(size: number): Blob {
  return blob(randomBytes(size));
}
