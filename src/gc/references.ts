// What one stored manifest points at, read leniently: the GC must keep everything any manifest
// references, including what the core would refuse today (schema1 `fsLayers`, foreign layers),
// because Distribution's collector keeps them too and a stricter reading would delete data.
import { tryParseDigest } from '../oci/digest.js';

export interface ManifestRefs {
  /** Config, layers (foreign ones too) and schema1 blobSums: blobs to keep. */
  blobs: string[];
  /** Index children: manifests that must stay. */
  children: string[];
  /** The `subject`, for referrers. */
  subject: string | undefined;
}

const EMPTY: ManifestRefs = { blobs: [], children: [], subject: undefined };

export function manifestRefs(content: Buffer): ManifestRefs {
  let doc: unknown;
  try {
    doc = JSON.parse(content.toString('utf8'));
  } catch {
    return EMPTY;
  }
  if (typeof doc !== 'object' || doc === null) return EMPTY;
  const d = doc as Record<string, unknown>;
  const blobs = [digestOf(d.config), ...list(d.layers).map(digestOf)];
  for (const fs of list(d.fsLayers)) blobs.push(validDigest((fs as Record<string, unknown> | null)?.blobSum));
  return {
    blobs: blobs.filter((x): x is string => x !== undefined),
    children: list(d.manifests).map(digestOf).filter((x): x is string => x !== undefined),
    subject: digestOf(d.subject),
  };
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
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
