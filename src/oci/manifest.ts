// Parsing and validation of image manifests and indexes (OCI and Docker schema2),
// reduced to what the registry needs: media type, referenced content, subject, artifact type.
import { tryParseDigest, type Digest } from './digest.js';
import { MediaType, manifestKindOf, baseMediaType, type ManifestKind } from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: unknown;
}

export interface ParsedManifest {
  mediaType: string;
  kind: ManifestKind;
  /** Blobs that must exist in the repository: config and layers, but for `external` ones. */
  blobs: Descriptor[];
  /**
   * Non-distributable (foreign) layers with URLs: fetched from there, so they need not be in
   * the registry; the URLs must pass the registry's rules.
   */
  external: Descriptor[];
  /** Manifests that must exist in the repository (the children of an index). */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** `artifactType`, or for image manifests without one, the config media type (per the referrers API). */
  artifactType?: string;
  annotations?: Record<string, string>;
}

export class InvalidManifestError extends Error {}

const GENERIC_CONTENT_TYPES = new Set(['', 'application/json', 'application/octet-stream']);

type Json = Record<string, unknown>;

export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  const doc = parseJsonObject(bytes);
  if (doc.schemaVersion !== 2) {
    throw new InvalidManifestError('schemaVersion must be 2 (Docker schema1 is not supported)');
  }
  const mediaType = resolveMediaType(doc, baseMediaType(contentType));
  const kind = manifestKindOf(mediaType);
  if (!kind) throw new InvalidManifestError(`unsupported manifest media type "${mediaType}"`);
  const subject = doc.subject === undefined ? undefined : descriptor(doc.subject, 'subject');
  const annotations = stringMap(doc.annotations, 'annotations');
  const declaredArtifactType = optionalString(doc.artifactType, 'artifactType');
  if (kind === 'index') {
    const manifests = descriptorList(doc.manifests, 'manifests', true);
    return withOptional({ mediaType, kind, blobs: [], external: [], manifests }, subject, declaredArtifactType, annotations);
  }
  const config = descriptor(doc.config, 'config');
  const layers = descriptorList(doc.layers, 'layers', mediaType === MediaType.dockerManifest);
  // Only a non-distributable layer may live elsewhere: a URL on any other layer does not
  // excuse it from being pushed (else `urls` would let a manifest name content never uploaded).
  const isExternal = (l: Descriptor) => isNonDistributable(l.mediaType) && (l.urls?.length ?? 0) > 0;
  const blobs = [config, ...layers.filter((l) => !isExternal(l))];
  const external = layers.filter(isExternal);
  const artifactType = declaredArtifactType ?? config.mediaType;
  return withOptional({ mediaType, kind, blobs, external, manifests: [] }, subject, artifactType, annotations);
}

/** OCI's non-distributable layers and Docker's foreign layers: the media types that may name URLs instead of being pushed. */
export function isNonDistributable(mediaType: string): boolean {
  return NON_DISTRIBUTABLE.has(mediaType);
}

const NON_DISTRIBUTABLE = new Set([
  MediaType.ociNonDistributableLayer, `${MediaType.ociNonDistributableLayer}+gzip`, `${MediaType.ociNonDistributableLayer}+zstd`, MediaType.dockerForeignLayer,
]);

function withOptional(
  m: ParsedManifest,
  subject: Descriptor | undefined,
  artifactType: string | undefined,
  annotations: Record<string, string> | undefined,
): ParsedManifest {
  if (subject) m.subject = subject;
  if (artifactType) m.artifactType = artifactType;
  if (annotations) m.annotations = annotations;
  return m;
}

function parseJsonObject(bytes: Uint8Array): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new InvalidManifestError(`manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InvalidManifestError('manifest must be a JSON object');
  }
  return doc as Json;
}

function resolveMediaType(doc: Json, contentType: string): string {
  const declared = optionalString(doc.mediaType, 'mediaType');
  if (declared !== undefined) {
    if (!GENERIC_CONTENT_TYPES.has(contentType) && contentType !== declared) {
      throw new InvalidManifestError(`Content-Type "${contentType}" does not match mediaType "${declared}"`);
    }
    return declared;
  }
  if (manifestKindOf(contentType)) {
    if (contentType === MediaType.dockerManifest || contentType === MediaType.dockerManifestList) {
      throw new InvalidManifestError('Docker schema2 manifests must declare mediaType');
    }
    return contentType;
  }
  if (Array.isArray(doc.manifests)) return MediaType.ociIndex;
  if (doc.config !== undefined) return MediaType.ociManifest;
  throw new InvalidManifestError(`cannot tell the manifest type (Content-Type "${contentType}")`);
}

function descriptorList(value: unknown, field: string, required: boolean): Descriptor[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value)) throw new InvalidManifestError(`"${field}" must be an array`);
  return value.map((d, i) => descriptor(d, `${field}[${i}]`));
}

export function descriptor(value: unknown, field: string): Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidManifestError(`"${field}" must be a descriptor object`);
  }
  const d = value as Json;
  const mediaType = optionalString(d.mediaType, `${field}.mediaType`);
  if (!mediaType) throw new InvalidManifestError(`"${field}.mediaType" is required`);
  const digest = requireDigest(d.digest, `${field}.digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new InvalidManifestError(`"${field}.size" must be a non-negative integer`);
  }
  const out: Descriptor = { mediaType, digest: digest.value, size: d.size };
  const artifactType = optionalString(d.artifactType, `${field}.artifactType`);
  if (artifactType) out.artifactType = artifactType;
  const annotations = stringMap(d.annotations, `${field}.annotations`);
  if (annotations) out.annotations = annotations;
  if (d.urls !== undefined) {
    if (!Array.isArray(d.urls) || !d.urls.every((u) => typeof u === 'string')) {
      throw new InvalidManifestError(`"${field}.urls" must be an array of strings`);
    }
    out.urls = d.urls as string[];
  }
  if (d.platform !== undefined) out.platform = d.platform;
  return out;
}

function requireDigest(value: unknown, field: string): Digest {
  if (typeof value !== 'string') throw new InvalidManifestError(`"${field}" must be a string`);
  const parsed = tryParseDigest(value);
  if (typeof parsed === 'string') throw new InvalidManifestError(`"${field}" is not a valid digest (${parsed})`);
  return parsed;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidManifestError(`"${field}" must be a string`);
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidManifestError(`"${field}" must be an object of strings`);
  }
  for (const v of Object.values(value)) {
    if (typeof v !== 'string') throw new InvalidManifestError(`"${field}" values must be strings`);
  }
  return value as Record<string, string>;
}
