// cosign-compatible signatures made by Berth (`berth sign`), for teams without cosign: the
// simple-signing payload naming the image's digest, signed with an ECDSA, RSA or Ed25519 key,
// stored as cosign stores it: a layer of the `sha256-<hex>.sig` manifest (tag scheme, added to
// the signatures already there) or a referrer of artifact type `application/vnd.dev.cosign.artifact.sig.v1+json`.
import { Readable } from 'node:stream';
import { sign, type KeyObject } from 'node:crypto';
import { digestOf, tryParseDigest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import type { Descriptor } from '../oci/manifest.js';
import type { RegistryClient } from '../client/index.js';
import { ANNOTATION, COSIGN_ARTIFACT_TYPE, COSIGN_PAYLOAD_TYPE, COSIGN_SIMPLE_SIGNING, cosignSignatureTag } from './formats.js';
import { ClientSignatureSource } from './client-source.js';

export interface SignedPayload {
  payload: Buffer;
  /** base64, as the annotation carries it. */
  signature: string;
}

/** The simple-signing payload cosign signs for `repository@digest`. */
export function simpleSigningPayload(repository: string, digest: string): Buffer {
  return Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': repository }, image: { 'docker-manifest-digest': digest }, type: COSIGN_PAYLOAD_TYPE },
    optional: null,
  }));
}

export function signPayload(key: KeyObject, payload: Buffer): string {
  const hash = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return sign(hash, payload, key).toString('base64');
}

export interface SignOptions {
  /** Store as a referrer (OCI 1.1) instead of under the `sha256-<hex>.sig` tag. */
  referrers?: boolean;
}

/** Signs `repository@digest` and pushes the signature; returns where it went (tag or referrer digest). */
export async function pushCosignSignature(client: RegistryClient, repository: string, digest: string, key: KeyObject, options: SignOptions = {}): Promise<string> {
  const parsed = tryParseDigest(digest);
  if (typeof parsed === 'string') throw new Error(`"${digest}" is not a digest`);
  const payload = simpleSigningPayload(repository, digest);
  const layer: Descriptor = {
    mediaType: COSIGN_SIMPLE_SIGNING, digest: digestOf(payload).value, size: payload.length,
    annotations: { [ANNOTATION.signature]: signPayload(key, payload) },
  };
  await pushBytes(client, repository, payload);
  if (options.referrers) {
    const config = Buffer.from('{}');
    await pushBytes(client, repository, config);
    const subject = await client.headManifest(repository, digest);
    const manifest = {
      schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: COSIGN_ARTIFACT_TYPE,
      config: { mediaType: MediaType.ociEmpty, digest: digestOf(config).value, size: config.length },
      layers: [layer],
      subject: { mediaType: subject?.mediaType ?? MediaType.ociManifest, digest, size: subject?.size ?? 0 },
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    return client.putManifest(repository, digestOf(bytes).value, bytes, MediaType.ociManifest);
  }
  const tag = cosignSignatureTag(parsed);
  const existing = await new ClientSignatureSource(client).manifest(repository, tag);
  const layers = existing ? (JSON.parse(existing.bytes.toString('utf8')) as { layers?: Descriptor[] }).layers ?? [] : [];
  if (!layers.some((l) => l.digest === layer.digest && l.annotations?.[ANNOTATION.signature] === layer.annotations?.[ANNOTATION.signature])) layers.push(layer);
  // cosign's config for a signature image: an empty image whose one diff ID is each payload's.
  const config = Buffer.from(JSON.stringify({
    architecture: '', created: '0001-01-01T00:00:00Z', history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })), os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: {},
  }));
  await pushBytes(client, repository, config);
  const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: digestOf(config).value }, layers };
  await client.putManifest(repository, tag, Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest);
  return tag;
}

async function pushBytes(client: RegistryClient, repository: string, bytes: Buffer): Promise<void> {
  await client.pushBlob(repository, { digest: digestOf(bytes).value, size: bytes.length }, () => Readable.from([bytes]));
}
