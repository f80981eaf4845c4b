// What is kept of a tag retention deleted: an audit record (done by `retention`), and its row in
// berth_tag_deleted marked as retention's, so a pull of it says why it is gone.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { appendAudit } from '../auth/audit.js';
import { markRetentionDeletion } from '../meta/deleted-tags.js';
import type { RetentionDecision } from './retention.js';

export function auditRetentionDeletion(db: Kysely<MetaTables>): (d: RetentionDecision) => Promise<void> {
  return async (d) => {
    await markRetentionDeletion(db, d.repository, d.tag, d.digest, d.policy);
    await appendAudit(db, {
      actor: 'retention', address: '', action: 'delete', target: `${d.repository}:${d.tag}`,
      detail: { digest: d.digest, pushedAt: d.pushedAt, reason: d.reason, policy: d.policy },
    });
  };
}
