// The inmemory driver's entry point for the driver map (../registry.ts).
import { MemoryDriver } from './memory-driver.js';
import type { StorageDriver } from '../../driver.js';

export { MemoryDriver };

export function create(): StorageDriver {
  return new MemoryDriver();
}
