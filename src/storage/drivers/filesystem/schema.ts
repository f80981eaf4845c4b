// `storage.filesystem`: Distribution's filesystem driver keys (docs/storage-drivers/filesystem.md).
// Imports only typebox: the configuration schema is built from this file (import rules).
import { Type } from '@sinclair/typebox';

export const FilesystemSchema = Type.Object({
  rootdirectory: Type.String({ default: './data', minLength: 1 }),
  /** Driver operations at once (concurrency-limit.ts); Distribution's default and minimum. */
  maxthreads: Type.Integer({ default: 100, minimum: 25 }),
}, { additionalProperties: false });
