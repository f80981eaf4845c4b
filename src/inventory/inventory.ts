// The read API's view of the registry's content, opened by the assembly for a server: the
// book (tables/inventory.ts), the recorder that keeps it in step, and what queries need.
import type { Kysely } from 'kysely';
import type { MetaDatabase } from '../meta/database.js';
import type { MetaTables } from '../meta/tables/index.js';
import type { Registry } from '../registry/registry.js';
import { InventoryBook } from './book.js';
import { InventoryRecorder, type RecorderLog } from './recorder.js';
import type { UsageReader } from '../meta/usage.js';
import type { SystemInfo } from './system.js';

export interface Inventory {
  readonly db: Kysely<MetaTables>;
  readonly postgres: boolean;
  /** The undecorated registry: reads of manifests and configs here are no pull events. */
  readonly core: Registry;
  readonly book: InventoryBook;
  readonly recorder: InventoryRecorder;
  /** Storage usage per project and repository (src/meta/usage.ts). */
  readonly usage: UsageReader | undefined;
  readonly system: SystemInfo;
  close(): Promise<void>;
}

export interface InventoryExtras {
  usage: UsageReader | undefined;
  system: SystemInfo;
}

export function openInventory(meta: MetaDatabase, core: Registry, log: RecorderLog, extras: InventoryExtras): Inventory {
  const book = new InventoryBook(meta.db);
  const recorder = new InventoryRecorder(book, core, log);
  recorder.start();
  return { db: meta.db, postgres: meta.dialect === 'postgres', core, book, recorder, ...extras, close: () => recorder.close() };
}
