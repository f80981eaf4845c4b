// Refusals that depend on configuration rather than on the request.
import { RegistryError } from '../../errors/index.js';
import type { HttpSettings } from '../settings.js';

export function assertDeleteAllowed(settings: HttpSettings): void {
  if (!settings.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'deletion is disabled (storage.delete.enabled)');
  assertWritable(settings);
}

export function assertWritable(settings: HttpSettings): void {
  if (settings.readOnly) {
    throw new RegistryError('UNSUPPORTED', 'the registry is in read-only mode (storage.maintenance.readonly)');
  }
}
