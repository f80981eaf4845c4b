// What one stored manifest points at, read leniently: the GC must keep everything any manifest
// references, including what the core would refuse today (schema1 `fsLayers`, foreign layers),
// because Distribution's collector keeps them too and a stricter reading would delete data.
// The same reading feeds the reference tables and storage usage, so that the collector, the
// import from storage and the push path agree on what a manifest holds.
import { tryParseDigest } from './digest.js';

/** A blob a manifest references, with the size its descriptor declares (schema1 declares none). */
export interface BlobReference {
  digest: string;
  size: number | undefined;
}

export interface ManifestRefs {
  /** Config, layers (foreign ones too) and schema1 blobSums: blobs to keep. */
  blobs: string[];
  /** Index children: manifests that must stay. */
  children: string[];
  /** The `subject`, for referrers. */
  subject: string | undefined;
}

export interface SizedManifestRefs extends ManifestRefs {
  /** `blobs` with their declared sizes, once per digest. */
  sized: BlobReference[];
}

const EMPTY: SizedManifestRefs = { blobs: [], sized: [], children: [], subject: undefined };

export function manifestRefs(content: Buffer): SizedManifestRefs {
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch {
    return EMPTY;
  }
  if (typeof doc !== 'object' || doc === null) return EMPTY;
  const d = doc as Record<string, unknown>;
  const found: (BlobReference | undefined)[] = [sizedOf(d.config), ...list(d.layers).map(sizedOf)];
  for (const fs of list(d.fsLayers)) {
    const digest = validDigest((fs as Record<string, unknown> | null)?.blobSum);
    found.push(digest === undefined ? undefined : { digest, size: undefined });
  }
  const sized = new Map<string, BlobReference>();
  for (const b of found) if (b && !sized.has(b.digest)) sized.set(b.digest, b);
  return {
    blobs: found.filter((x): x is BlobReference => x !== undefined).map((b) => b.digest),
    sized: [...sized.values()],
    children: list(d.manifests).map(digestOf).filter((x): x is string => x !== undefined),
    subject: digestOf(d.subject),
  };
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function sizedOf(descriptor: unknown): BlobReference | undefined {
  const digest = digestOf(descriptor);
  if (digest === undefined) return undefined;
  const size = (descriptor as Record<string, unknown>).size;
  return { digest, size: typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : undefined };
}

function digestOf(descriptor: unknown): string | undefined {
  if (typeof descriptor !== 'object' || descriptor === null) return undefined;
  return validDigest((descriptor as Record<string, unknown>).digest);
}

function validDigest(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = tryParseDigest(value);
  return typeof parsed === 'string' ? undefined : parsed.value;
}
