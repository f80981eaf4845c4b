// The listing index in the metadata database (SQLite embedded, PostgreSQL shared by replicas):
// catalog and tag pages are keyset queries, so a page costs the same over 10 or 100,000
// repositories. Storage stays the source of truth; this is written after it.
//
// Crash consistency: every change records an intent row for its repository (and bumps the
// repository's `seq`) before the storage write, applies its rows after, and deletes the intent in
// the same transaction. A process that dies in between leaves the intent; `resync` re-reads such
// a repository from storage (at start and periodically, see listing-sync.ts). A re-read refuses
// to write when the repository changed while it read (its `seq` moved, or an intent it saw is
// gone), and retries later: it can never overwrite a newer change with an older read.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import type { ListingChange, ListingIndex, Page, PageRequest, RepositoryListing } from '../registry/listing-index.js';
import type { MetaDatabase } from './database.js';
import type { MetaTables } from './tables/index.js';
import { addManifest, ReferenceChanges, releaseManifest, replaceManifests, settle } from './references.js';
import { queueReview } from './review-queue.js';
import { recordDeletedTag } from './deleted-tags.js';

/** Where the index re-reads repositories from: storage (src/registry/storage-listing.ts). */
export interface ListingSource {
  read(name: string): Promise<RepositoryListing | undefined>;
  exists(name: string): Promise<boolean>;
}

export interface ListingLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface MetaListingOptions {
  /** An intent older than this belongs to a write that died; default one minute. */
  staleAfterMs?: number;
  log?: ListingLog;
  now?: () => number;
}

type Db = Kysely<MetaTables> | Transaction<MetaTables>;

export class MetaListingIndex implements ListingIndex {
  readonly #db: Kysely<MetaTables>;
  readonly #postgres: boolean;
  readonly #source: ListingSource;
  readonly #staleAfterMs: number;
  readonly #log: ListingLog | undefined;
  readonly #now: () => number;

  constructor(meta: MetaDatabase, source: ListingSource, options: MetaListingOptions = {}) {
    this.#db = meta.db;
    this.#postgres = meta.dialect === 'postgres';
    this.#source = source;
    this.#staleAfterMs = options.staleAfterMs ?? 60_000;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  async repositories({ n, last }: PageRequest): Promise<Page> {
    let q = this.#db.selectFrom('berth_listing_repository').select('name').where('present', '=', 1);
    if (last !== undefined) q = q.where('name', '>', last);
    q = q.orderBy('name');
    if (n !== undefined) q = q.limit(n + 1);
    return pageOf((await q.execute()).map((r) => r.name), n);
  }

  async tags(name: string, { n, last }: PageRequest): Promise<Page | undefined> {
    if (!(await this.#present(this.#db, name))) return undefined;
    let q = this.#db.selectFrom('berth_listing_tag').select('tag').where('repository', '=', name);
    if (last !== undefined) q = q.where('tag', '>', last);
    q = q.orderBy('tag');
    if (n !== undefined) q = q.limit(n + 1);
    return pageOf((await q.execute()).map((r) => r.tag), n);
  }

  async tagsOf(name: string, digest: Digest): Promise<string[]> {
    const rows = await this.#db.selectFrom('berth_listing_tag').select('tag')
      .where('repository', '=', name).where('digest', '=', digest.value).orderBy('tag').execute();
    return rows.map((r) => r.tag);
  }

  async referrers(name: string, subject: Digest): Promise<Digest[]> {
    const rows = await this.#db.selectFrom('berth_listing_referrer').select('referrer')
      .where('repository', '=', name).where('subject', '=', subject.value).orderBy('referrer').execute();
    return rows.map((r) => tryParseDigest(r.referrer)).filter((d): d is Digest => typeof d !== 'string');
  }

  async change<T>(name: string, write: () => Promise<T>, changes: (result: T) => ListingChange[]): Promise<T> {
    const id = randomUUID();
    await this.#db.transaction().execute(async (trx) => {
      await trx.insertInto('berth_listing_intent').values({ id, repository: name, created_at: this.#now() }).execute();
      await trx.insertInto('berth_listing_repository').values({ name, present: 0, seq: 1 })
        .onConflict((oc) => oc.column('name').doUpdateSet({ seq: sql`berth_listing_repository.seq + 1` })).execute();
    });
    // A failed storage write leaves the intent: the write may have half happened.
    const result = await write();
    try {
      const list = changes(result);
      const exists = list.some((c) => c.kind === 'recheck') ? await this.#source.exists(name) : true;
      await this.#db.transaction().execute(async (trx) => {
        await this.#lock(trx, name);
        const refs = new ReferenceChanges(name);
        for (const c of list) await this.#apply(trx, refs, c, exists);
        await settle(trx, refs, this.#now());
        await trx.deleteFrom('berth_listing_intent').where('id', '=', id).execute();
      });
    } catch (err) {
      // Storage holds the change; the intent left behind gets the repository re-read.
      this.#log?.warn({ err, repository: name }, 'listing index: write failed after storage changed; the repository will be re-read from storage');
    }
    return result;
  }

  async refresh(names: Iterable<string>): Promise<void> {
    for (const name of names) await this.resync(name);
  }

  /**
   * Re-reads `name` from storage into the index; false when a change raced the read (the
   * repository is then left to the next pass). Intents older than the stale age are dropped.
   */
  async resync(name: string): Promise<boolean> {
    const before = await this.#snapshot(this.#db, name);
    const state = await this.#source.read(name);
    const staleBefore = this.#now() - this.#staleAfterMs;
    return this.#db.transaction().execute(async (trx) => {
      await this.#lock(trx, name);
      const now = await this.#snapshot(trx, name);
      if (now.seq !== before.seq || before.intents.some((i) => !now.intents.some((j) => j.id === i.id))) return false;
      const refs = new ReferenceChanges(name);
      await this.#replace(trx, refs, state);
      await settle(trx, refs, this.#now());
      const stale = before.intents.filter((i) => Number(i.created_at) < staleBefore).map((i) => i.id);
      if (stale.length > 0) await trx.deleteFrom('berth_listing_intent').where('id', 'in', stale).execute();
      return true;
    });
  }

  /** Repositories with intents (only those older than the stale age, unless `all`). */
  async pending(all = false): Promise<string[]> {
    let q = this.#db.selectFrom('berth_listing_intent').select('repository').distinct();
    if (!all) q = q.where('created_at', '<', this.#now() - this.#staleAfterMs);
    return (await q.orderBy('repository').execute()).map((r) => r.repository);
  }

  /** Every repository the index knows, present or not. */
  async known(): Promise<string[]> {
    return (await this.#db.selectFrom('berth_listing_repository').select('name').orderBy('name').execute()).map((r) => r.name);
  }

  /** What the index holds about `name`, in storage's shape (for verify). */
  async stored(name: string): Promise<RepositoryListing | undefined> {
    if (!(await this.#present(this.#db, name))) return undefined;
    const tags = await this.#db.selectFrom('berth_listing_tag').select(['tag', 'digest']).where('repository', '=', name).orderBy('tag').execute();
    const refs = await this.#db.selectFrom('berth_listing_referrer').select(['subject', 'referrer']).where('repository', '=', name)
      .orderBy('subject').orderBy('referrer').execute();
    return { name, tags: new Map(tags.map((t) => [t.tag, t.digest])), referrers: refs };
  }

  async #apply(trx: Db, refs: ReferenceChanges, c: ListingChange, exists: boolean): Promise<void> {
    const name = refs.repository;
    switch (c.kind) {
      case 'manifest':
        await this.#setPresent(trx, name, 1);
        if (c.manifest) await addManifest(trx, refs, c.manifest, this.#now());
        return;
      case 'unmanifest':
        await releaseManifest(trx, refs, c.digest, this.#now());
        return;
      case 'tag': {
        await this.#setPresent(trx, name, 1);
        const before = await this.#tagged(trx, name, c.tag);
        await trx.insertInto('berth_listing_tag').values({ repository: name, tag: c.tag, digest: c.digest })
          .onConflict((oc) => oc.columns(['repository', 'tag']).doUpdateSet({ digest: c.digest })).execute();
        if (before !== undefined && before !== c.digest) {
          await queueReview(trx, { kind: 'manifest', repository: name, digest: before, reason: 'retag' }, this.#now());
          await recordDeletedTag(trx, { repository: name, tag: c.tag, digest: before, reason: 'retag' }, this.#now());
        }
        return;
      }
      case 'untag': {
        const before = await this.#tagged(trx, name, c.tag);
        await trx.deleteFrom('berth_listing_tag').where('repository', '=', name).where('tag', '=', c.tag).execute();
        if (before !== undefined) {
          await queueReview(trx, { kind: 'manifest', repository: name, digest: before, reason: 'untag' }, this.#now());
          await recordDeletedTag(trx, { repository: name, tag: c.tag, digest: before, reason: 'untag' }, this.#now());
        }
        return;
      }
      case 'referrer':
        await trx.insertInto('berth_listing_referrer').values({ repository: name, subject: c.subject, referrer: c.referrer })
          .onConflict((oc) => oc.doNothing()).execute();
        return;
      case 'unreferrer':
        await trx.deleteFrom('berth_listing_referrer').where('repository', '=', name)
          .where('subject', '=', c.subject).where('referrer', '=', c.referrer).execute();
        return;
      case 'recheck':
        if (!exists) await this.#replace(trx, refs, undefined);
        return;
    }
  }

  async #replace(trx: Db, refs: ReferenceChanges, state: RepositoryListing | undefined): Promise<void> {
    const name = refs.repository;
    await trx.deleteFrom('berth_listing_tag').where('repository', '=', name).execute();
    await trx.deleteFrom('berth_listing_referrer').where('repository', '=', name).execute();
    await this.#setPresent(trx, name, state ? 1 : 0);
    // The reference tables follow storage too (a reader that does not report revisions leaves them).
    if (!state || state.manifests) await replaceManifests(trx, refs, state?.manifests, this.#now());
    if (!state) return;
    const tags = [...state.tags].map(([tag, digest]) => ({ repository: name, tag, digest }));
    for (let i = 0; i < tags.length; i += 500) await trx.insertInto('berth_listing_tag').values(tags.slice(i, i + 500)).execute();
    const referrers = state.referrers.map((r) => ({ repository: name, ...r }));
    for (let i = 0; i < referrers.length; i += 500) await trx.insertInto('berth_listing_referrer').values(referrers.slice(i, i + 500)).execute();
  }

  async #tagged(trx: Db, name: string, tag: string): Promise<string | undefined> {
    return (await trx.selectFrom('berth_listing_tag').select('digest').where('repository', '=', name).where('tag', '=', tag).executeTakeFirst())?.digest;
  }

  async #setPresent(trx: Db, name: string, present: number): Promise<void> {
    await trx.insertInto('berth_listing_repository').values({ name, present, seq: 0 })
      .onConflict((oc) => oc.column('name').doUpdateSet({ present })).execute();
  }

  /** Serializes a re-read's check-and-write with changes to the same repository (PostgreSQL; SQLite transactions are serial). */
  async #lock(trx: Db, name: string): Promise<void> {
    if (this.#postgres) await sql`select 1 from berth_listing_repository where name = ${name} for update`.execute(trx);
  }

  async #present(db: Db, name: string): Promise<boolean> {
    const row = await db.selectFrom('berth_listing_repository').select('present').where('name', '=', name).executeTakeFirst();
    return row?.present === 1;
  }

  async #snapshot(db: Db, name: string): Promise<{ seq: string | undefined; intents: { id: string; created_at: number | string }[] }> {
    const row = await db.selectFrom('berth_listing_repository').select('seq').where('name', '=', name).executeTakeFirst();
    const intents = await db.selectFrom('berth_listing_intent').select(['id', 'created_at']).where('repository', '=', name).execute();
    return { seq: row === undefined ? undefined : String(row.seq), intents };
  }
}

function pageOf(rows: string[], n: number | undefined): Page {
  if (n === undefined) return { items: rows, more: false };
  return { items: rows.slice(0, n), more: rows.length > n };
}
