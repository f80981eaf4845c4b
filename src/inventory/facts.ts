// The facts the read API shows of one artifact, read once from storage by digest (never by a
// walk): its manifest, and for an image its config (platform, created). An index's facts are
// built from its children's, which the caller looks up first (they were pushed before it).
import type { Registry } from '../registry/registry.js';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import type { Descriptor, ParsedManifest } from '../oci/manifest.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  /** The image manifest of this platform (the artifact itself for an image). */
  digest: string;
  /** Its total compressed bytes. */
  size: number;
}

export interface ArtifactFacts {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  kind: 'image' | 'index' | 'other';
  subject: string | null;
  configDigest: string | null;
  manifestSize: number;
  size: number;
  platforms: Platform[];
  created: string | null;
  annotations: Record<string, string>;
  /** Every blob `size` counts, each once (the manifest itself included). */
  blobs: Array<[string, number]>;
  /** An index's children. */
  children: string[];
}

/** Image config media types whose JSON carries os/architecture/created. */
export const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/** Configs larger than this are not read for facts (real ones are a few KiB). */
export const CONFIG_READ_LIMIT = 1024 * 1024;

export interface ImageConfig {
  os?: unknown;
  architecture?: unknown;
  variant?: unknown;
  'os.version'?: unknown;
  created?: unknown;
  history?: unknown;
  config?: unknown;
  rootfs?: unknown;
}

/** The image config of `descriptor`, when it is one and small enough; undefined otherwise. */
export async function readImageConfig(registry: Registry, descriptor: Descriptor | undefined): Promise<ImageConfig | undefined> {
  if (!descriptor || !IMAGE_CONFIG_TYPES.has(descriptor.mediaType) || descriptor.size > CONFIG_READ_LIMIT) return undefined;
  const digest = tryParseDigest(descriptor.digest);
  if (typeof digest === 'string') return undefined;
  const bytes = await registry.blobs.getSmall(digest);
  if (!bytes) return undefined;
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as ImageConfig : undefined;
  } catch {
    return undefined;
  }
}

/** Looks up (or reads) the facts of a child of an index. */
export type ChildFacts = (digest: Digest) => Promise<ArtifactFacts | undefined>;

/** The facts of `name@digest`; undefined when the repository does not hold it. */
export async function readFacts(registry: Registry, name: string, digest: Digest, child: ChildFacts): Promise<ArtifactFacts | undefined> {
  const stored = await registry.manifests.get(name, { digest }).catch(() => undefined);
  if (!stored) return undefined;
  const base = { digest: digest.value, mediaType: stored.mediaType, manifestSize: stored.content.length };
  const parsed = stored.parsed;
  if (!parsed) {
    return { ...base, artifactType: null, kind: 'other', subject: null, configDigest: null, size: base.manifestSize, platforms: [], created: null, annotations: {}, blobs: [[digest.value, base.manifestSize]], children: [] };
  }
  const common = { ...base, artifactType: parsed.artifactType ?? null, subject: parsed.subject?.digest ?? null, annotations: parsed.annotations ?? {} };
  return parsed.kind === 'index' ? indexFacts(common, parsed, child) : imageFacts(registry, common, parsed);
}

type Common = Pick<ArtifactFacts, 'digest' | 'mediaType' | 'manifestSize' | 'artifactType' | 'subject' | 'annotations'>;

async function imageFacts(registry: Registry, common: Common, parsed: ParsedManifest): Promise<ArtifactFacts> {
  const configDescriptor = parsed.blobs[0];
  const blobs = new Map<string, number>([[common.digest, common.manifestSize]]);
  for (const b of parsed.blobs) blobs.set(b.digest, b.size);
  const size = sumOf(blobs);
  const config = await readImageConfig(registry, configDescriptor);
  const platform = config ? platformOf(config, common.digest, size) : undefined;
  return {
    ...common, kind: 'image', configDigest: configDescriptor?.digest ?? null, size,
    platforms: platform ? [platform] : [], created: typeof config?.created === 'string' ? config.created : null,
    blobs: [...blobs], children: [],
  };
}

async function indexFacts(common: Common, parsed: ParsedManifest, child: ChildFacts): Promise<ArtifactFacts> {
  const blobs = new Map<string, number>([[common.digest, common.manifestSize]]);
  const platforms: Platform[] = [];
  let created: string | null = null;
  for (const d of parsed.manifests) {
    const digest = tryParseDigest(d.digest);
    const facts = typeof digest === 'string' ? undefined : await child(digest);
    for (const [b, n] of facts?.blobs ?? [[d.digest, d.size] as [string, number]]) blobs.set(b, n);
    if (facts?.created && (created === null || facts.created > created)) created = facts.created;
    const platform = descriptorPlatform(d, facts);
    if (platform) platforms.push(platform);
  }
  return { ...common, kind: 'index', configDigest: null, size: sumOf(blobs), platforms, created, blobs: [...blobs], children: parsed.manifests.map((d) => d.digest) };
}

/** An index entry's platform (its descriptor's, else its image's); none for attestation manifests (unknown/unknown). */
function descriptorPlatform(d: Descriptor, facts: ArtifactFacts | undefined): Platform | undefined {
  const p = d.platform as Record<string, unknown> | undefined;
  const fromDescriptor = p && typeof p.os === 'string' && typeof p.architecture === 'string' ? platformOf({ os: p.os, architecture: p.architecture, variant: p.variant, 'os.version': p['os.version'] }, d.digest, facts?.size ?? d.size) : undefined;
  const platform = fromDescriptor ?? (facts?.platforms[0] ? { ...facts.platforms[0], digest: d.digest } : undefined);
  if (!platform || (platform.os === 'unknown' && platform.architecture === 'unknown')) return undefined;
  return platform;
}

function platformOf(config: ImageConfig, digest: string, size: number): Platform | undefined {
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return undefined;
  return {
    os: config.os, architecture: config.architecture,
    ...(typeof config.variant === 'string' && config.variant ? { variant: config.variant } : {}),
    ...(typeof config['os.version'] === 'string' && config['os.version'] ? { osVersion: config['os.version'] } : {}),
    digest, size,
  };
}

function sumOf(blobs: Map<string, number>): number {
  let total = 0;
  for (const n of blobs.values()) total += n;
  return total;
}
