// Distribution's storage.maintenance.uploadpurging: removes upload sessions older than `age`
// every `interval`, so abandoned pushes do not fill the disk.
import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from '../registry/registry.js';
import { parseDuration } from '../config/duration.js';
import { purgeStaleUploads } from '../registry/upload-purge.js';

export interface UploadPurgingSettings {
  enabled: boolean;
  age: string;
  interval: string;
  dryrun: boolean;
}

export function startUploadPurger(registry: Registry, settings: UploadPurgingSettings, logger: FastifyBaseLogger): { stop(): void } {
  if (!settings.enabled) return { stop() {} };
  const age = parseDuration(settings.age);
  const interval = parseDuration(settings.interval);
  const run = async () => {
    const purged = await purgeStaleUploads(registry, new Date(Date.now() - age), settings.dryrun);
    logger.info({ purged: purged.length, dryRun: settings.dryrun, olderThan: settings.age }, 'upload purge finished');
  };
  // Distribution waits a random part of an hour before the first run so replicas do not collide.
  const first = setTimeout(function tick() {
    run().catch((err: unknown) => logger.error({ err }, 'upload purge failed'));
    timer = setTimeout(tick, interval);
    timer.unref();
  }, Math.min(interval, Math.floor(Math.random() * 3_600_000)));
  let timer: NodeJS.Timeout = first;
  first.unref();
  return { stop: () => clearTimeout(timer) };
}
