// What follows a finished collection, wherever it ran (`berth gc`, the schedule, the admin API,
// eviction): the read API's inventory forgets the manifests the sweep deleted (the sweep works
// on storage directly, so no registry listener hears of them, as catalog.refresh re-reads the
// listing index for the same reason), and the run is recorded with its report.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { InventoryBook } from '../inventory/book.js';
import type { GcReport } from './collector.js';
import { recordGcRun, type GcTrigger } from './run-book.js';

export async function afterGcRun(db: Kysely<MetaTables>, report: GcReport, trigger: GcTrigger, actor: string | null = null): Promise<void> {
  if (!report.dryRun) {
    const book = new InventoryBook(db);
    for (const m of report.manifests) await book.forget(m.repository, m.digest);
  }
  await recordGcRun(db, report, trigger, actor);
}
