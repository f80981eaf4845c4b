// The facts the reference tables keep about one manifest revision, read from its bytes the
// lenient way the collector reads them (src/oci/references.ts). A blob whose descriptor declares
// no size (schema1) counts with its stored size, or 0 when it is not stored.
import { manifestRefs } from '../oci/references.js';
import type { ManifestFacts } from './listing-index.js';

export async function manifestFacts(
  digest: string, content: Buffer, storedSize: (digest: string) => Promise<number | undefined>,
): Promise<ManifestFacts> {
  const refs = manifestRefs(content);
  const blobs = await Promise.all(refs.sized.map(async (b) => ({ digest: b.digest, size: b.size ?? (await storedSize(b.digest)) ?? 0 })));
  return { digest, size: content.length, blobs, children: [...new Set(refs.children)], subject: refs.subject };
}
