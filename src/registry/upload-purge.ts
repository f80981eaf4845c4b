// Finds and removes upload sessions started before a cutoff, in every repository
// (Distribution's storage.maintenance.uploadpurging; the scheduling lives in the CLI).
import type { Registry } from './registry.js';

export interface PurgedUpload {
  repository: string;
  id: string;
}

export async function purgeStaleUploads(registry: Registry, cutoff: Date, dryRun = false): Promise<PurgedUpload[]> {
  const purged: PurgedUpload[] = [];
  for (const repository of await registry.catalog.namesHolding('_uploads')) {
    for (const id of await registry.uploads.purgeOlderThan(repository, cutoff, dryRun)) purged.push({ repository, id });
  }
  return purged;
}
