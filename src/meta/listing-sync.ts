// Keeping the listing index equal to storage: the first start's build (a registry:2 directory or
// bucket served as is), the repair of repositories a crash left mid-change (at start, then on an
// interval), `berth index rebuild`, and `berth index verify`'s comparison.
import type { Digest } from '../oci/digest.js';
import type { ListingChange, ListingIndex, Page, PageRequest, RepositoryListing } from '../registry/listing-index.js';
import type { MetaDatabase } from './database.js';
import { MetaListingIndex, type ListingLog, type ListingSource } from './listing-index.js';

/** The storage walk: every repository name in storage, one repository read, and listings by walking. */
export interface ListingWalk extends ListingSource, Pick<ListingIndex, 'repositories' | 'tags' | 'tagsOf' | 'referrers'> {
  namesHolding(marker: '_manifests', onProgress?: (found: number) => void): Promise<string[]>;
}

const BUILT = 'listing.built';
const PARALLEL = 8;
const RETRIES = 5;

export interface ListingService {
  /** What the core reads and writes: the database once built, the storage walk until then. */
  index: ListingIndex;
  /** The database index itself (verify, rebuild). */
  database: MetaListingIndex;
  /** Resolves once the index answers from the database (at once when it was built before). */
  ready: Promise<void>;
  stop(): void;
}

/**
 * Opens the index: repairs what a crash left, then repairs periodically. A never-built index is
 * built in the background (a registry:2 bucket can take minutes to walk): the server listens at
 * once and lists by walking storage until the build is recorded; changes meanwhile go to both.
 */
export async function startListing(
  meta: MetaDatabase, walk: ListingWalk, options: { log: ListingLog; resyncIntervalMs: number; staleAfterMs?: number },
): Promise<ListingService> {
  const { log } = options;
  const index = new MetaListingIndex(meta, walk, { log, ...(options.staleAfterMs ? { staleAfterMs: options.staleAfterMs } : {}) });
  const stopped = new AbortController();
  const front = new UntilBuilt(index, walk);
  let ready: Promise<void>;
  if (await isBuilt(meta)) {
    front.built = true;
    await repair(index, true, log);
    ready = Promise.resolve();
  } else {
    log.info({}, 'listing index: never built; building it from storage in the background (listings walk storage until then)');
    ready = rebuildListing(meta, index, walk, log, stopped.signal).then(({ repositories, ms }) => {
      front.built = true;
      log.info({ repositories, ms }, 'listing index: built');
    }, (err: unknown) => {
      if (!stopped.signal.aborted) log.warn({ err }, 'listing index: build failed; listings keep walking storage, the next start builds again');
    });
  }
  const timer = options.resyncIntervalMs > 0
    ? setInterval(() => { if (front.built) repair(index, false, log).catch((err: unknown) => log.warn({ err }, 'listing index: repair failed')); }, options.resyncIntervalMs)
    : undefined;
  timer?.unref();
  return { index: front, database: index, ready, stop: () => { clearInterval(timer); stopped.abort(); } };
}

/** Reads from the storage walk until the database is built; writes always reach the database. */
class UntilBuilt implements ListingIndex {
  built = false;
  readonly #db: MetaListingIndex;
  readonly #walk: ListingWalk;

  constructor(db: MetaListingIndex, walk: ListingWalk) {
    this.#db = db;
    this.#walk = walk;
  }

  #reads(): Pick<ListingIndex, 'repositories' | 'tags' | 'tagsOf' | 'referrers'> {
    return this.built ? this.#db : this.#walk;
  }

  repositories(page: PageRequest): Promise<Page> { return this.#reads().repositories(page); }
  tags(name: string, page: PageRequest): Promise<Page | undefined> { return this.#reads().tags(name, page); }
  tagsOf(name: string, digest: Digest): Promise<string[]> { return this.#reads().tagsOf(name, digest); }
  referrers(name: string, subject: Digest): Promise<Digest[]> { return this.#reads().referrers(name, subject); }
  change<T>(name: string, write: () => Promise<T>, changes: (result: T) => ListingChange[]): Promise<T> { return this.#db.change(name, write, changes); }
  refresh(names: Iterable<string>): Promise<void> { return this.#db.refresh(names); }
}

/** Whether the index was ever built (until then it does not know every revision storage holds). */
export async function listingBuilt(meta: MetaDatabase): Promise<boolean> {
  return isBuilt(meta);
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
  meta: MetaDatabase, index: MetaListingIndex, walk: ListingWalk, log?: ListingLog, signal?: AbortSignal,
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
      signal?.throwIfAborted();
      const name = names[i]!;
      let ok = false;
      for (let attempt = 0; attempt < RETRIES && !ok; attempt++) ok = await index.resync(name);
      // Changed under every attempt: its intents stay, and the periodic repair reads it again.
      if (!ok) log?.warn({ repository: name }, 'listing index: repository kept changing during the build; left to the repair');
      progress('reading repositories', ++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, names.length) }, worker));
  signal?.throwIfAborted();
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
