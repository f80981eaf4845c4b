// `berth serve`: loads configuration, reports what it will not honour, starts the registry,
// purges stale uploads on Distribution's schedule, and drains on SIGTERM/SIGINT.
import type { FastifyInstance } from 'fastify';
import { loadConfig, parseListenAddress } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { driverFromConfig } from '../storage/from-config.js';
import { Registry } from '../registry/registry.js';
import { buildApp } from '../http/app.js';
import { httpSettingsFrom } from '../http/settings.js';
import { createLogger } from './logger.js';
import { startUploadPurger } from './upload-purger.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config, warnings: string[] = []): Promise<RunningServer> {
  const logger = createLogger(config);
  for (const w of warnings) logger.warn(`config: ${w}`);
  const registry = new Registry(await driverFromConfig(config, parseDuration));
  const app = await buildApp({
    registry, settings: httpSettingsFrom(config), logger, accessLog: !config.log.accesslog.disabled,
  });
  const purger = startUploadPurger(registry, config.storage.maintenance.uploadpurging, logger);
  let url: string;
  if (config.http.net === 'unix') {
    url = await app.listen({ path: config.http.addr });
  } else {
    const { host, port } = parseListenAddress(config.http.addr);
    url = await app.listen({ host, port });
  }
  logger.info({ url, storage: registry.driver.name }, 'berth is serving the registry API');
  return {
    app,
    url,
    async close() {
      purger.stop();
      await app.close();
    },
  };
}

export async function serveCommand(file: string | undefined): Promise<void> {
  const { config, warnings } = loadConfig({ ...(file ? { file } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  const server = await startServer(config, []);
  const drainMs = parseDuration(config.http.draintimeout);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal, drainMs }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      server.app.log.warn('drain timeout reached; closing remaining connections');
      server.app.server.closeAllConnections();
    }, drainMs);
    timer.unref();
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
