// The review worker inside `berth serve`: a pass every `gc.review.interval`, never two at once in
// a process (replicas on PostgreSQL each run one; SKIP LOCKED keeps them off each other's rows).
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { MetaDatabase } from '../meta/database.js';
import type { Registry } from '../registry/registry.js';
import { reviewOnce } from './review-worker.js';

export function startReviewWorker(meta: MetaDatabase | undefined, core: Registry, config: Config, logger: FastifyBaseLogger): { stop(): void } {
  const { review, untagged, keepuntagged } = config.gc;
  if (!meta || !config.meta.index.enabled || review.interval <= 0 || config.storage.maintenance.readonly.enabled) return { stop() {} };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    reviewOnce(meta, core, { graceMs: review.grace, untagged, keepUntagged: keepuntagged })
      .then((r) => {
        if (r.manifests.length + r.blobs.length > 0) logger.info({ manifests: r.manifests.length, blobs: r.blobs.length, kept: r.kept }, 'gc review: collected');
      }, (err: unknown) => logger.warn({ err }, 'gc review: pass failed; its rows are reviewed again after their lease'))
      .finally(() => { running = false; });
  }, review.interval);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
