// One garbage collection run: take the storage lock, put back what an interrupted run left
// parked, mark, and (unless dry-run) sweep with the online protocol of sweep.ts. Used by
// `berth gc`, by the schedule in `berth serve`, and by the retention runner.
import type { Registry } from '../registry/registry.js';
import { planCollection } from './plan.js';
import { staleLinksTo, sweep } from './sweep.js';
import type { LockOptions } from './lock.js';
import type { LinkRef } from './plan.js';

export const DEFAULT_GRACE_MS = 3_600_000;

export interface GcOptions {
  dryRun?: boolean;
  deleteUntagged?: boolean;
  /** Content modified more recently than this is never touched. */
  graceMs?: number;
  lock?: LockOptions;
  now?: () => number;
}

export interface GcReport {
  dryRun: boolean;
  deleteUntagged: boolean;
  graceMs: number;
  startedAt: string;
  durationMs: number;
  /** Blobs found in storage, and how many of them a kept manifest references. */
  blobsSeen: number;
  blobsMarked: number;
  manifests: LinkRef[];
  blobs: { digest: string; size: number }[];
  bytes: number;
  layerLinks: LinkRef[];
  /** Marked for deletion, then kept: a push during the run turned out to need them. */
  restored: string[];
  /** Deletion marks an interrupted earlier run left, cleared before marking. */
  recovered: number;
}

export async function collectGarbage(registry: Registry, options: GcOptions = {}): Promise<GcReport> {
  const now = options.now ?? Date.now;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const dryRun = options.dryRun ?? false;
  const deleteUntagged = options.deleteUntagged ?? false;
  const lock = registry.maintenance.lock(options.lock);
  await lock.acquire();
  try {
    const started = now();
    const recovered = dryRun ? 0 : await registry.maintenance.clearAllPending();
    const plan = await planCollection(registry, { deleteUntagged, cutoff: started - graceMs });
    const base = {
      dryRun, deleteUntagged, graceMs, startedAt: new Date(started).toISOString(),
      blobsSeen: plan.blobsSeen, blobsMarked: plan.marked.size, recovered,
    };
    if (dryRun) {
      const blobs = plan.blobs.map(({ digest, size }) => ({ digest, size }));
      return {
        ...base, manifests: plan.manifests.map(({ repository, digest }) => ({ repository, digest })),
        blobs, bytes: sum(blobs), layerLinks: [...plan.danglingLinks, ...staleLinksTo(plan, new Set(plan.blobs.map((b) => b.digest)))], restored: [],
        durationMs: now() - started,
      };
    }
    if (!(await lock.stillHeld())) throw new Error('garbage collection lock lost before the sweep; nothing was deleted');
    const out = await sweep(registry, plan, now);
    // The sweep deletes revisions and referrer links in storage directly: the listing index re-reads those repositories.
    await registry.catalog.refresh(new Set(out.manifests.map((m) => m.repository)));
    const blobs = out.blobs.map(({ digest, size }) => ({ digest, size }));
    return {
      ...base, manifests: out.manifests.map(({ repository, digest }) => ({ repository, digest })),
      blobs, bytes: sum(blobs), layerLinks: out.layerLinks, restored: out.restored, durationMs: now() - started,
    };
  } finally {
    await lock.release();
  }
}

function sum(blobs: { size: number }[]): number {
  return blobs.reduce((total, b) => total + b.size, 0);
}
