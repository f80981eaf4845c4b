// Keeping the listing index equal to storage: the first start's build (a registry:2 directory or
// bucket served as is), the repair of repositories a crash left mid-change (at start, then on an
// interval), `berth index rebuild`, and `berth index verify`'s comparison.
import type { RepositoryListing } from '../registry/listing-index.js';
import type { MetaDatabase } from './database.js';
import { MetaListingIndex, type ListingLog, type ListingSource } from './listing-index.js';

/** What the walk offers besides reading one repository: every repository name in storage. */
export interface ListingWalk extends ListingSource {
  namesHolding(marker: '_manifests', onProgress?: (found: number) => void): Promise<string[]>;
}

const BUILT = 'listing.built';
const PARALLEL = 8;
const RETRIES = 5;

export interface ListingService {
  index: MetaListingIndex;
  stop(): void;
}

/** Opens the index: builds it when it never was, repairs what a crash left, then repairs periodically. */
export async function startListing(
  meta: MetaDatabase, walk: ListingWalk, options: { log: ListingLog; resyncIntervalMs: number; staleAfterMs?: number },
): Promise<ListingService> {
  const index = new MetaListingIndex(meta, walk, { log: options.log, ...(options.staleAfterMs ? { staleAfterMs: options.staleAfterMs } : {}) });
  if (!(await isBuilt(meta))) {
    options.log.info({}, 'listing index: never built; building it from storage (listings wait for it)');
    const { repositories, ms } = await rebuildListing(meta, index, walk, options.log);
    options.log.info({ repositories, ms }, 'listing index: built');
  } else {
    await repair(index, true, options.log);
  }
  const timer = options.resyncIntervalMs > 0
    ? setInterval(() => { repair(index, false, options.log).catch((err: unknown) => options.log.warn({ err }, 'listing index: repair failed')); }, options.resyncIntervalMs)
    : undefined;
  timer?.unref();
  return { index, stop: () => clearInterval(timer) };
}

async function isBuilt(meta: MetaDatabase): Promise<boolean> {
  return (await meta.db.selectFrom('berth_meta').select('value').where('key', '=', BUILT).executeTakeFirst()) !== undefined;
}

/** Re-reads the repositories with intents: all of them at start, else those older than the stale age. */
async function repair(index: MetaListingIndex, all: boolean, log: ListingLog): Promise<void> {
  const names = await index.pending(all);
  if (names.length === 0) return;
  let done = 0;
  for (const name of names) if (await index.resync(name)) done++;
  log.info({ repositories: names.length, resynced: done }, 'listing index: re-read repositories left mid-change');
}

/** Re-reads every repository in storage or in the index, and records the index as built. */
export async function rebuildListing(
  meta: MetaDatabase, index: MetaListingIndex, walk: ListingWalk, log?: ListingLog,
): Promise<{ repositories: number; ms: number }> {
  const started = Date.now();
  let lastLog = started;
  const progress = (phase: string, count: number) => {
    if (Date.now() - lastLog < 5000) return;
    lastLog = Date.now();
    log?.info({ phase, count }, 'listing index: building');
  };
  const names = [...new Set([...await walk.namesHolding('_manifests', (n) => progress('walking storage', n)), ...await index.known()])].sort();
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let i = next++; i < names.length; i = next++) {
      const name = names[i]!;
      let ok = false;
      for (let attempt = 0; attempt < RETRIES && !ok; attempt++) ok = await index.resync(name);
      // Changed under every attempt: its intents stay, and the periodic repair reads it again.
      if (!ok) log?.warn({ repository: name }, 'listing index: repository kept changing during the build; left to the repair');
      progress('reading repositories', ++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, names.length) }, worker));
  await meta.db.insertInto('berth_meta').values({ key: BUILT, value: new Date().toISOString() })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: new Date().toISOString() })).execute();
  return { repositories: names.length, ms: Date.now() - started };
}

/** Differences between the index and storage, one line each (empty: they agree). */
export async function verifyListing(index: MetaListingIndex, walk: ListingWalk): Promise<string[]> {
  const inStorage = await walk.namesHolding('_manifests');
  const inIndex = (await index.repositories({})).items;
  const names = [...new Set([...inStorage, ...inIndex])].sort();
  const out: string[] = [];
  let next = 0;
  const found = new Map<string, string[]>();
  const worker = async () => {
    for (let i = next++; i < names.length; i = next++) {
      const name = names[i]!;
      found.set(name, diff(name, await walk.read(name), await index.stored(name)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, names.length) }, worker));
  for (const name of names) out.push(...found.get(name) ?? []);
  return out;
}

function diff(name: string, storage: RepositoryListing | undefined, index: RepositoryListing | undefined): string[] {
  if (!storage && !index) return [];
  if (!index) return [`${name}: repository in storage, missing from the index`];
  if (!storage) return [`${name}: repository in the index, not in storage`];
  const out: string[] = [];
  for (const tag of [...new Set([...storage.tags.keys(), ...index.tags.keys()])].sort()) {
    const s = storage.tags.get(tag);
    const i = index.tags.get(tag);
    if (s === i) continue;
    out.push(`${name}:${tag}: storage ${s ?? '(none)'}, index ${i ?? '(none)'}`);
  }
  const key = (r: { subject: string; referrer: string }) => `${r.subject} <- ${r.referrer}`;
  const sRefs = new Set(storage.referrers.map(key));
  const iRefs = new Set(index.referrers.map(key));
  for (const r of [...sRefs].filter((r) => !iRefs.has(r)).sort()) out.push(`${name}: referrer ${r} in storage, missing from the index`);
  for (const r of [...iRefs].filter((r) => !sRefs.has(r)).sort()) out.push(`${name}: referrer ${r} in the index, not in storage`);
  return out;
}
