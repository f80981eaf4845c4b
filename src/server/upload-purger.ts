// Distribution's storage.maintenance.uploadpurging: removes upload sessions older than `age`
// every `interval`, so abandoned pushes do not fill the disk. As in Distribution, a read-only
// registry does not purge, and dryrun only reports (each session it would remove). On the
// filesystem driver the same run sweeps temporary files a crash left (temp-file-sweep.ts).
import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from '../registry/registry.js';
import { formatDuration } from '../config/duration.js';
import { purgeStaleUploads } from '../registry/upload-purge.js';
import { sweepTempFiles } from './temp-file-sweep.js';

/** As loaded: `age` and `interval` in milliseconds. */
export interface UploadPurgingSettings {
  enabled: boolean;
  age: number;
  interval: number;
  dryrun: boolean;
}

export interface PurgerOptions {
  /** storage.maintenance.readonly.enabled: Distribution turns purging off then. */
  readOnly?: boolean;
  /** Delay before the first run; Distribution waits a random part of an hour (replicas). */
  firstDelayMs?: number;
  /** The filesystem driver's root, whose abandoned temporary files are swept too. */
  filesystemRoot?: string;
}

export function startUploadPurger(
  registry: Registry, settings: UploadPurgingSettings, logger: FastifyBaseLogger, options: PurgerOptions = {},
): { stop(): void } {
  if (!settings.enabled) return { stop() {} };
  if (options.readOnly) {
    logger.info('upload purging is off: the registry is read-only');
    return { stop() {} };
  }
  const { age, interval } = settings;
  if (interval <= 0) {
    logger.warn({ interval: formatDuration(interval) }, 'upload purging is off: its interval must be greater than 0');
    return { stop() {} };
  }
  const run = async () => {
    const purged = await purgeStaleUploads(registry, new Date(Date.now() - age), settings.dryrun);
    if (settings.dryrun) {
      for (const p of purged) logger.info({ repository: p.repository, upload: p.id }, 'upload purge (dry run): would remove');
    }
    logger.info({ purged: purged.length, dryRun: settings.dryrun, olderThan: formatDuration(age) }, 'upload purge finished');
    if (options.filesystemRoot === undefined) return;
    const swept = await sweepTempFiles(options.filesystemRoot, new Date(Date.now() - age), settings.dryrun);
    for (const f of swept) {
      logger.info({ path: f.path, modified: f.modTime.toISOString() }, settings.dryrun ? 'temporary file sweep (dry run): would remove' : 'removed an abandoned temporary file');
    }
  };
  let stopped = false;
  const first = options.firstDelayMs ?? Math.min(interval, Math.floor(Math.random() * 3_600_000));
  let timer: NodeJS.Timeout = setTimeout(function tick() {
    // The next run is planned once this one ends, so runs never overlap on a slow storage.
    run().catch((err: unknown) => logger.error({ err }, 'upload purge failed')).finally(() => {
      if (stopped) return;
      timer = setTimeout(tick, interval);
      timer.unref();
    });
  }, first);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
