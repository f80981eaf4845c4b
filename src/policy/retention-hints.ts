// A pull of a tag retention deleted answers MANIFEST_UNKNOWN saying so (detail: reason, when,
// which rules, the manifest it named) instead of a bare "manifest unknown": a CI job whose
// image vanished learns it was policy, not a failed push. Found in berth_tag_deleted
// (src/meta/deleted-tags.ts), kept for `gc.tagrestore`; only asked when the tag is missing.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { Registry } from '../registry/registry.js';
import type { ManifestReference, ManifestStore } from '../registry/manifest-store.js';
import { decorate } from '../registry/decorate.js';
import { RegistryError } from '../errors/index.js';
import { retentionDeletionOf } from '../meta/deleted-tags.js';

export function withRetentionHints(registry: Registry, db: Kysely<MetaTables>): Registry {
  const manifests = decorate<ManifestStore>(registry.manifests, {
    async get(name: string, ref: ManifestReference) {
      try {
        return await registry.manifests.get(name, ref);
      } catch (err) {
        if (!(err instanceof RegistryError) || err.code !== 'MANIFEST_UNKNOWN' || !('tag' in ref)) throw err;
        // The answer stays the plain 404 when the database cannot say more.
        const gone = await retentionDeletionOf(db, name, ref.tag).catch(() => undefined);
        if (!gone) throw err;
        const at = new Date(gone.at).toISOString();
        throw new RegistryError('MANIFEST_UNKNOWN', { tag: ref.tag, reason: 'deleted by retention', at, policy: gone.policy, digest: gone.digest }, {
          message: `tag ${ref.tag} was deleted by retention (rules of ${gone.policy}) at ${at}`,
        });
      }
    },
  });
  return { manifests, uploads: registry.uploads, blobs: registry.blobs, tags: registry.tags, referrers: registry.referrers,
    catalog: registry.catalog, maintenance: registry.maintenance } satisfies Registry as Registry;
}
