// `quota`: storage limits per project (project = a repository name's first path component).
// Usage is the project's deduplicated bytes (src/meta/usage.ts); a push that would go past the
// limit is refused with DENIED naming the project, its limit and its usage (src/policy/quota.ts).
import { Type } from '@sinclair/typebox';
import { bytes, strict } from './common.js';

export const QuotaSection = Type.Object({
  /** Bytes for projects without their own limit ("10GB"); "0" is no limit. */
  default: bytes('0'),
  /** Project -> limit ("team: 10GB"); "0" is no limit for that project. */
  projects: Type.Record(Type.String({ minLength: 1 }), bytes('0'), { default: {} }),
}, { ...strict, default: {} });
