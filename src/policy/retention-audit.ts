// The audit record of a tag retention deleted: one per tag, done by `retention`.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { appendAudit } from '../auth/audit.js';
import type { RetentionDecision } from './retention.js';

export function auditRetentionDeletion(db: Kysely<MetaTables>): (d: RetentionDecision) => Promise<void> {
  return (d) => appendAudit(db, {
    actor: 'retention', address: '', action: 'delete', target: `${d.repository}:${d.tag}`,
    detail: { digest: d.digest, pushedAt: d.pushedAt, reason: d.reason },
  });
}
