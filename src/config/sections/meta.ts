// `meta`: Berth's metadata database. SQLite beside the filesystem storage by default;
// PostgreSQL (`meta.postgres.url`) when several replicas share one registry. `meta.index` is the
// listing index kept in it (catalog, tag lists, referrers: src/meta/listing-index.ts).
import { Type } from '@sinclair/typebox';
import { millis, secret, strict } from './common.js';

export const MetaSection = Type.Object({
  sqlite: Type.Optional(Type.Object({ path: Type.String({ minLength: 1 }) }, strict)),
  postgres: Type.Optional(Type.Object({ url: Type.String({ minLength: 1, ...secret('url') }) }, strict)),
  index: Type.Object({
    /** Listings from the metadata database instead of walking storage (which takes minutes on S3). */
    enabled: Type.Boolean({ default: true }),
    /** How often repositories left with an unfinished index write (a crash) are re-read from storage. */
    resyncinterval: millis('1m'),
  }, { ...strict, default: {} }),
}, { ...strict, default: {} });
