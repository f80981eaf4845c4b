// `storage.inmemory`: no keys (`inmemory:` or `inmemory: {}`), as in Distribution.
// Imports only typebox: the configuration schema is built from this file (import rules).
import { Type } from '@sinclair/typebox';

export const InmemorySchema = Type.Union([Type.Null(), Type.Object({}, { additionalProperties: false })]);
