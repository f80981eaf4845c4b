// Pull records for the audit log (auth.audit.pulls): a pull is far more frequent than a change,
// so records are collected in memory and written in one transaction every second, or as soon
// as BATCH of them wait.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { appendAudit, type AuditRecord } from './audit.js';

const BATCH = 500;
const INTERVAL_MS = 1000;

export class PullAudit {
  #pending: AuditRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Kysely<MetaTables>, private readonly onLost: (err: unknown, count: number) => void) {}

  add(record: AuditRecord): void {
    this.#pending.push(record);
    if (this.#pending.length >= BATCH) void this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** Writes what is waiting; resolves once it (and any earlier batch) is written or reported lost. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    const at = new Date();
    this.#writing = this.#writing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.db.transaction().execute(async (trx) => { for (const r of batch) await appendAudit(trx, r, at); });
      } catch (err) {
        this.onLost(err, batch.length);
      }
    });
    return this.#writing;
  }
}
