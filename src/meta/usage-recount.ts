// Storage usage recounted from scratch by reading every repository's revisions from storage:
// what the incremental counters (usage-counter.ts) must always equal. `berth usage --verify` and
// the tests compare the two.
import { projectOf } from '../policy/patterns.js';
import type { ListingSource } from './listing-index.js';

export interface UsageRecount {
  /** Repository -> deduplicated bytes. */
  repositories: Map<string, number>;
  /** Project -> deduplicated bytes. */
  projects: Map<string, number>;
}

export async function recountUsage(source: ListingSource, names: string[]): Promise<UsageRecount> {
  const repositories = new Map<string, number>();
  const projectBlobs = new Map<string, Map<string, number>>();
  for (const name of names) {
    const listing = await source.read(name);
    const blobs = new Map<string, number>();
    for (const m of listing?.manifests ?? []) {
      blobs.set(m.digest, m.size);
      for (const b of m.blobs) if (!blobs.has(b.digest)) blobs.set(b.digest, b.size);
    }
    if (blobs.size === 0) continue;
    repositories.set(name, sum(blobs));
    const project = projectOf(name);
    const held = projectBlobs.get(project) ?? new Map<string, number>();
    for (const [digest, size] of blobs) if (!held.has(digest)) held.set(digest, size);
    projectBlobs.set(project, held);
  }
  return { repositories, projects: new Map([...projectBlobs].map(([p, blobs]) => [p, sum(blobs)])) };
}

function sum(blobs: Map<string, number>): number {
  let total = 0;
  for (const size of blobs.values()) total += size;
  return total;
}

/** Lines where the counters and a recount differ (empty: they agree). */
export function usageDrift(counted: { repositories: Map<string, number>; projects: Map<string, number> }, recount: UsageRecount): string[] {
  const out: string[] = [];
  const compare = (kind: string, a: Map<string, number>, b: Map<string, number>) => {
    for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
      if ((a.get(key) ?? 0) !== (b.get(key) ?? 0)) out.push(`${kind} ${key}: counted ${a.get(key) ?? 0} bytes, storage holds ${b.get(key) ?? 0}`);
    }
  };
  compare('project', counted.projects, recount.projects);
  compare('repository', counted.repositories, recount.repositories);
  return out;
}
