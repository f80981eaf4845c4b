// The record of garbage collection runs (tables/gc-runs.ts): each finished run of `berth gc`,
// the schedule, the admin API or eviction, with its report, for the read API's GC page. A
// report's lists can hold millions of entries after a large cleanup: each is kept up to LIST_CAP
// (the counts and bytes stay exact).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { GcReport } from './collector.js';

export const LIST_CAP = 1000;

export type GcTrigger = 'schedule' | 'api' | 'cli' | 'eviction';

export interface GcRunSummary {
  id: string;
  trigger: GcTrigger;
  actor: string | null;
  startedAt: string;
  durationMs: number;
  dryRun: boolean;
  blobs: number;
  bytes: number;
  manifests: number;
  layerLinks: number;
}

export interface GcRun extends GcRunSummary {
  report: GcReport;
  /** Lists of the report cut at LIST_CAP entries. */
  truncated: boolean;
}

/** Records a finished run; answers its id. */
export async function recordGcRun(db: Kysely<MetaTables>, report: GcReport, trigger: GcTrigger, actor: string | null = null): Promise<string> {
  const started = Date.parse(report.startedAt);
  const id = `${report.startedAt}-${randomUUID()}`;
  const cap = <T>(list: T[]) => list.slice(0, LIST_CAP);
  const truncated = [report.manifests, report.blobs, report.layerLinks, report.restored].some((l) => l.length > LIST_CAP);
  const stored = { ...report, manifests: cap(report.manifests), blobs: cap(report.blobs), layerLinks: cap(report.layerLinks), restored: cap(report.restored), truncated };
  await db.insertInto('berth_gc_run').values({
    id, started_at: Number.isNaN(started) ? Date.now() : started, duration_ms: report.durationMs, trigger, actor, dry_run: report.dryRun ? 1 : 0,
    blobs: report.blobs.length, bytes: report.bytes, manifests: report.manifests.length, layer_links: report.layerLinks.length, report: JSON.stringify(stored),
  }).execute();
  return id;
}

interface Row {
  id: string; started_at: number | string; duration_ms: number | string; trigger: string; actor: string | null;
  dry_run: number; blobs: number; bytes: number | string; manifests: number; layer_links: number;
}

/** Runs newest first, after the run `after` (an id), `limit` of them (and whether more follow). */
export async function listGcRuns(db: Kysely<MetaTables>, limit: number, after?: string): Promise<{ items: GcRunSummary[]; more: boolean }> {
  let q = db.selectFrom('berth_gc_run').select(['id', 'started_at', 'duration_ms', 'trigger', 'actor', 'dry_run', 'blobs', 'bytes', 'manifests', 'layer_links']);
  if (after !== undefined) q = q.where('id', '<', after);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  return { items: rows.slice(0, limit).map((r) => summaryOf(r)), more: rows.length > limit };
}

export async function getGcRun(db: Kysely<MetaTables>, id: string): Promise<GcRun | undefined> {
  const row = await db.selectFrom('berth_gc_run').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const { truncated, ...report } = JSON.parse(row.report) as GcReport & { truncated: boolean };
  return { ...summaryOf(row), report, truncated };
}

function summaryOf(r: Row): GcRunSummary {
  return {
    id: r.id, trigger: r.trigger as GcTrigger, actor: r.actor, startedAt: new Date(Number(r.started_at)).toISOString(), durationMs: Number(r.duration_ms),
    dryRun: r.dry_run === 1, blobs: r.blobs, bytes: Number(r.bytes), manifests: r.manifests, layerLinks: r.layer_links,
  };
}
