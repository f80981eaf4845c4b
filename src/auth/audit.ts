// The audit log: pushes, deletes and administrative changes, one row each. `appendAudit` is the
// one way in, for any feature that has something worth recording.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';

export interface AuditRecord {
  actor: string;
  address: string;
  /** push, delete, user.add, project.set-public, robot.rm, ... */
  action: string;
  /** What it acted on: a repository@reference, a user, a project. */
  target: string;
  /** Extra facts (never a secret). */
  detail?: Record<string, unknown>;
}

export interface AuditEntry extends Required<AuditRecord> { id: string; at: string }

export async function appendAudit(db: Kysely<MetaTables>, record: AuditRecord, at: Date = new Date()): Promise<void> {
  const iso = at.toISOString();
  await db.insertInto('auth_audit').values({
    id: `${iso}-${randomUUID()}`, at: iso, actor: record.actor, address: record.address,
    action: record.action, target: record.target, detail: JSON.stringify(record.detail ?? {}),
  }).execute();
}

export interface AuditQuery { limit?: number; since?: string; actor?: string; action?: string }

/** The newest entries first. */
export async function readAudit(db: Kysely<MetaTables>, q: AuditQuery = {}): Promise<AuditEntry[]> {
  let query = db.selectFrom('auth_audit').selectAll();
  if (q.since) query = query.where('at', '>=', q.since);
  if (q.actor) query = query.where('actor', '=', q.actor);
  if (q.action) query = query.where('action', '=', q.action);
  const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(Math.min(q.limit ?? 100, 10_000)).execute();
  return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}
