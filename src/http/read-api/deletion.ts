// GET /api/v1/repositories/<name>/-/deletion?digests=<d1>,<d2>: what deleting those manifests
// would free (src/meta/deletion-preview.ts). The caller needs the pull right only: the figures
// are about content they can already read, and the delete itself is the registry API's to allow.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { RegistryError } from '../../errors/index.js';
import { tryParseDigest } from '../../oci/digest.js';
import type { MetaTables } from '../../meta/tables/index.js';
import { previewDeletion, UnknownManifestError, type DeletionPreview } from '../../meta/deletion-preview.js';
import { QueryReader, invalid } from './query.js';

/** As many digests as the console's largest page of artifacts. */
const MAX_DIGESTS = 100;

export async function deletionPreview(req: FastifyRequest, db: Kysely<MetaTables>, name: string): Promise<DeletionPreview> {
  const given = new QueryReader(req, ['digests']).text('digests', MAX_DIGESTS * 160);
  if (!given) throw invalid('digests', '"digests" must name at least one manifest digest (comma-separated)');
  const digests = given.split(',');
  if (digests.length > MAX_DIGESTS) throw invalid('digests', `"digests" may name at most ${MAX_DIGESTS} digests`);
  for (const d of digests) {
    const parsed = tryParseDigest(d);
    if (typeof parsed === 'string') throw new RegistryError('DIGEST_INVALID', { digest: d, reason: parsed });
  }
  try {
    return await previewDeletion(db, name, digests);
  } catch (err) {
    if (err instanceof UnknownManifestError) throw new RegistryError('MANIFEST_UNKNOWN', { name, digest: err.digest });
    throw err;
  }
}
