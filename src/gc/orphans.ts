// The reconciler's memory (berth_gc_orphan): when each storage object the database does not know
// about was first seen. A run records what is new, forgets what became known or went away, and
// answers when each was first seen, so removal waits for the grace across runs (and restarts).
import type { MetaDatabase } from '../meta/database.js';

export type OrphanKind = 'blob' | 'manifest' | 'layer';

export interface Orphan {
  kind: OrphanKind;
  /** '' for blobs. */
  repository: string;
  digest: string;
}

const CHUNK = 300;

function keyOf(o: Orphan): string {
  return `${o.kind}\u0000${o.repository}\u0000${o.digest}`;
}

/** Makes the table hold exactly `current` (new ones first seen `now`); returns each one's first sighting. */
/** `dryRun`: answers the same first sightings (new ones as `now`) and writes nothing: a dry run changes nothing. */
export async function recordOrphans(meta: MetaDatabase, current: Orphan[], now: number, dryRun = false): Promise<Map<string, number>> {
  const wanted = new Map(current.map((o) => [keyOf(o), o]));
  const held = await meta.db.selectFrom('berth_gc_orphan').select(['kind', 'repository', 'digest', 'first_seen']).execute();
  const firstSeen = new Map<string, number>();
  const gone: Orphan[] = [];
  for (const row of held) {
    const o = { kind: row.kind as OrphanKind, repository: row.repository, digest: row.digest };
    if (wanted.has(keyOf(o))) firstSeen.set(keyOf(o), Number(row.first_seen));
    else gone.push(o);
  }
  const fresh = current.filter((o) => !firstSeen.has(keyOf(o)));
  if (dryRun) {
    for (const o of fresh) firstSeen.set(keyOf(o), now);
    return firstSeen;
  }
  for (let i = 0; i < fresh.length; i += CHUNK) {
    await meta.db.insertInto('berth_gc_orphan').values(fresh.slice(i, i + CHUNK).map((o) => ({ ...o, first_seen: now })))
      .onConflict((oc) => oc.doNothing()).execute();
  }
  for (const o of fresh) firstSeen.set(keyOf(o), now);
  for (const o of gone) await forgetOrphan(meta, o);
  return firstSeen;
}

export function firstSeenOf(seen: Map<string, number>, o: Orphan): number {
  return seen.get(keyOf(o)) ?? Number.POSITIVE_INFINITY;
}

export async function forgetOrphan(meta: MetaDatabase, o: Orphan): Promise<void> {
  await meta.db.deleteFrom('berth_gc_orphan').where('kind', '=', o.kind).where('repository', '=', o.repository).where('digest', '=', o.digest).execute();
}
