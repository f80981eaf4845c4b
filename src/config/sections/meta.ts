// `meta`: Berth's metadata database. SQLite beside the filesystem storage by default;
// PostgreSQL (`meta.postgres.url`) when several replicas share one registry.
import { Type } from '@sinclair/typebox';
import { strict } from './common.js';

export const MetaSection = Type.Object({
  sqlite: Type.Optional(Type.Object({ path: Type.String({ minLength: 1 }) }, strict)),
  postgres: Type.Optional(Type.Object({ url: Type.String({ minLength: 1 }) }, strict)),
}, { ...strict, default: {} });
