// A fingerprint of a storage tree: every file's relative path with the sha256 of its content,
// and every directory. Two snapshots taken around a refused request must be equal.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dirsUnder, filesUnder } from '../../support/api-table.js';

export type Snapshot = Map<string, string>;

export async function snapshot(root: string): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const dir of await dirsUnder(root)) out.set(`${dir}/`, 'dir');
  for (const file of await filesUnder(root)) {
    // The embedded database's journal files change when background workers (GC review queue,
    // replication job leases) run on their own timers, whatever a request did; the storage tree
    // and the database file itself are still fingerprinted.
    if (file.endsWith('.sqlite-wal') || file.endsWith('.sqlite-shm')) continue;
    const content = await readFile(join(root, file)).catch(() => undefined);
    out.set(file, content === undefined ? 'vanished' : createHash('sha256').update(content).digest('hex'));
  }
  return out;
}

/** Asserts that nothing was added, removed or changed between two snapshots. */
export function assertUnchanged(before: Snapshot, after: Snapshot, label: string): void {
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed = [...before.keys()].filter((k) => after.has(k) && after.get(k) !== before.get(k));
  assert.deepEqual({ added, removed, changed }, { added: [], removed: [], changed: [] }, `storage changed by ${label}`);
}
