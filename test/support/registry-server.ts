// Starts a real Berth server on 127.0.0.1 (random port) for a test, in this process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigInput, resolveConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';

export interface TestRegistry {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** host:port, for clients that want a registry host. */
  host: string;
  /** Storage root when the filesystem driver is used. */
  root: string | undefined;
  server: RunningServer;
  close(): Promise<void>;
}

export interface TestRegistryOptions {
  storage?: 'memory' | 'filesystem';
  /** Existing storage root to serve (not removed on close). */
  root?: string;
  deleteEnabled?: boolean;
  /** Extra REGISTRY_* variables. */
  env?: Record<string, string>;
  /** Changes the configuration as written (Distribution's strings: "5m", "10GB") before it is resolved. */
  configure?: (config: ConfigInput) => void;
}

export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const storage = options.storage ?? (options.root ? 'filesystem' : 'memory');
  const ownRoot = storage === 'filesystem' && !options.root ? await mkdtemp(join(tmpdir(), 'berth-test-')) : undefined;
  const root = options.root ?? ownRoot;
  const env: Record<string, string> = {
    REGISTRY_HTTP_ADDR: '127.0.0.1:0',
    REGISTRY_LOG_LEVEL: process.env.BERTH_TEST_LOG_LEVEL ?? 'error',
    REGISTRY_LOG_ACCESSLOG_DISABLED: 'true',
    REGISTRY_STORAGE_DELETE_ENABLED: String(options.deleteEnabled ?? true),
    REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED: 'false',
    ...(storage === 'filesystem' ? { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root! } : {}),
    ...options.env,
  };
  const { input: config } = loadConfigInput({ env });
  if (storage === 'memory') {
    config.storage = { ...config.storage, driver: 'inmemory', inmemory: null, filesystem: undefined, s3: undefined };
  }
  options.configure?.(config);
  const server = await startServer(resolveConfig(config));
  const address = server.app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  const host = `127.0.0.1:${address.port}`;
  return {
    url: `http://${host}`,
    host,
    root,
    server,
    async close() {
      await server.close();
      if (ownRoot) await rm(ownRoot, { recursive: true, force: true });
    },
  };
}
