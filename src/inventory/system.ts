// What the read API's system page shows: Berth's version, the runtime, the storage and metadata
// kinds, and the configuration in effect with every secret masked (the same masking as
// `berth config print`).
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { maskConfig } from '../config/mask.js';

export interface SystemInfo {
  version: string;
  node: string;
  storage: string;
  metadata: 'sqlite' | 'postgres';
  config: unknown;
}

/** package.json's version (dist/src/inventory -> the package root). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function systemInfo(config: Config, storage: string, metadata: 'sqlite' | 'postgres'): SystemInfo {
  return { version: packageVersion(), node: process.version, storage, metadata, config: maskConfig(config) };
}
