// The audit log as the read API pages it: filtered by actor, action, repository and a time
// range, newest first, by keyset on the entry id (an id starts with its ISO time, so id order is
// time order). Details are shown with any value under a credential-like key masked: features
// promise never to record a secret, and this keeps a slip from reaching a screen or a CSV file.
import { sql, type Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { looksSecret } from '../config/secret-names.js';
import { MASK } from '../config/mask.js';
import type { AuditEntry } from './audit.js';

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  /** Entries about this repository: pushes, pulls and deletes of `name:tag` or `name@digest`. */
  repository?: string | undefined;
  /** ISO times: since inclusive, until exclusive. */
  since?: string | undefined;
  until?: string | undefined;
}

export interface AuditPageQuery extends AuditFilter {
  limit: number;
  /** The id of the last entry of the previous page. */
  after?: string | undefined;
}

/** One page, newest first; `next` is the id to continue after (undefined on the last page). */
export async function pageAudit(db: Kysely<MetaTables>, q: AuditPageQuery): Promise<{ items: AuditEntry[]; next: string | undefined }> {
  let query = db.selectFrom('auth_audit').selectAll();
  if (q.since) query = query.where('at', '>=', q.since);
  if (q.until) query = query.where('at', '<', q.until);
  if (q.actor) query = query.where('actor', '=', q.actor);
  if (q.action) query = query.where('action', '=', q.action);
  if (q.repository) {
    const name = q.repository;
    query = query.where((eb) => eb.or([
      eb('target', '=', name),
      sql<boolean>`target like ${`${escapeLike(name)}:%`} escape '\\'`,
      sql<boolean>`target like ${`${escapeLike(name)}@%`} escape '\\'`,
    ]));
  }
  if (q.after) query = query.where('id', '<', q.after);
  const rows = await query.orderBy('id', 'desc').limit(q.limit + 1).execute();
  const page = rows.slice(0, q.limit);
  return {
    items: page.map((r) => ({ ...r, detail: maskDetail(JSON.parse(r.detail) as Record<string, unknown>) as Record<string, unknown> })),
    next: rows.length > q.limit ? page[page.length - 1]?.id : undefined,
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `value` with every non-boolean value under a credential-like key masked (`hasPassword: true` stays). */
export function maskDetail(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskDetail);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, looksSecret(k) && typeof v !== 'boolean' && v !== null ? MASK : maskDetail(v)]));
}
