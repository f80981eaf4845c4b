// The review worker inside `berth serve`, and the reconciler's slow schedule: a pass every `gc.review.interval`, never two at once in
// a process (replicas on PostgreSQL each run one; SKIP LOCKED keeps them off each other's rows).
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { MetaDatabase } from '../meta/database.js';
import type { Registry } from '../registry/registry.js';
import { reviewOnce } from './review-worker.js';
import { listingBuilt } from '../meta/listing-sync.js';
import { reconcile } from './reconcile.js';
import { every } from './schedule.js';
import { LockHeldError } from './lock.js';

export function startReviewWorker(meta: MetaDatabase | undefined, core: Registry, config: Config, logger: FastifyBaseLogger): { stop(): void } {
  const { review, untagged, keepuntagged } = config.gc;
  if (!meta || !config.meta.index.enabled || review.interval <= 0 || config.storage.maintenance.readonly.enabled) return { stop() {} };
  let running = false;
  // Until the listing index is first built, the reference tables lack revisions storage holds: a
  // blob an upload row names may be referenced by one of them, so no pass runs before.
  let built = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    (built ? Promise.resolve(true) : listingBuilt(meta)).then((b) => {
      built = b;
      return b ? reviewOnce(meta, core, { graceMs: review.grace, uploadGraceMs: review.upload, leaseMs: review.lease, tagRestoreMs: config.gc.tagrestore, untagged, keepUntagged: keepuntagged }) : undefined;
    })
      .then((r) => {
        if (r && r.manifests.length + r.blobs.length > 0) logger.info({ manifests: r.manifests.length, blobs: r.blobs.length, kept: r.kept }, 'gc review: collected');
      }, (err: unknown) => logger.warn({ err }, 'gc review: pass failed; its rows are reviewed again after their lease'))
      .finally(() => { running = false; });
  }, review.interval);
  timer.unref();
  // The reconciler's slow walk (gc.reconcile.interval, off by default); the storage lock lets one replica run it.
  const stopReconcile = every(config.gc.reconcile.interval, logger, 'gc reconcile', async () => {
    try {
      const r = await reconcile(meta, core, { graceMs: config.gc.reconcile.grace });
      logger.info({
        unknown: r.unknown.length, blobs: r.removed.blobs.length, manifests: r.removed.manifests.length, layerLinks: r.removed.layerLinks.length,
        missingManifests: r.missing.manifests.length, missingBlobs: r.missing.blobs.length, durationMs: r.durationMs,
      }, 'gc reconcile finished');
      for (const m of r.missing.manifests) logger.warn({ repository: m.repository, digest: m.digest }, 'gc reconcile: manifest missing from storage');
      for (const b of r.missing.blobs) logger.warn({ digest: b }, 'gc reconcile: blob missing from storage');
    } catch (err) {
      if (err instanceof LockHeldError) return logger.info(err.message);
      throw err;
    }
  });
  return { stop: () => { clearInterval(timer); stopReconcile(); } };
}
