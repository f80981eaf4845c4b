// The facts the reference tables keep about one manifest revision. A push has already parsed and
// validated the manifest, so its facts come from that parse (one parse per PUT, which
// test/api/core-costs checks); bytes the core could not parse (the pull-through cache stores
// them as they are) are read the lenient way the collector reads them (src/oci/references.ts).
// A blob whose descriptor declares no size (schema1) counts with its stored size, or 0.
import { manifestRefs, type BlobReference } from '../oci/references.js';
import type { ParsedManifest } from '../oci/manifest.js';
import type { ManifestFacts } from './listing-index.js';

export async function manifestFacts(
  digest: string, content: Buffer, parsed: ParsedManifest | undefined,
  storedSize: (digest: string) => Promise<number | undefined>,
): Promise<ManifestFacts> {
  const refs = parsed ? refsOfParsed(parsed) : manifestRefs(content);
  const blobs = await Promise.all(refs.sized.map(async (b) => ({ digest: b.digest, size: b.size ?? (await storedSize(b.digest)) ?? 0 })));
  return { digest, size: content.length, blobs, children: [...new Set(refs.children)], subject: refs.subject };
}

function refsOfParsed(m: ParsedManifest): { sized: BlobReference[]; children: string[]; subject: string | undefined } {
  const sized = new Map<string, BlobReference>();
  for (const d of [...m.blobs, ...m.external]) if (!sized.has(d.digest)) sized.set(d.digest, { digest: d.digest, size: d.size });
  return { sized: [...sized.values()], children: m.manifests.map((d) => d.digest), subject: m.subject?.digest };
}
