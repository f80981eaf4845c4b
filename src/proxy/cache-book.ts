// The cache's bookkeeping rows (tables/proxy.ts): what was cached when, when it was last pulled
// (written at most once a minute per row: a popular layer must not cost a write per pull), and
// when each cached tag was last confirmed upstream. Eviction reads and deletes these rows.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { CacheKind } from './proxy-metrics.js';

const PULL_WRITE_INTERVAL_MS = 60_000;
const MAX_REMEMBERED = 100_000;

export interface CachedTag {
  digest: string;
  validatedAt: number;
}

export class CacheBook {
  readonly #db: Kysely<MetaTables>;
  readonly #now: () => number;
  readonly #lastWrite = new Map<string, number>();
  readonly #onError: (err: unknown) => void;

  constructor(db: Kysely<MetaTables>, options: { now?: () => number; onError?: (err: unknown) => void } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
  }

  async cached(upstream: string, repository: string, digest: string, kind: CacheKind, size: number): Promise<void> {
    const now = this.#now();
    await this.#db.insertInto('proxy_cache_entries')
      .values({ upstream, repository, digest, kind, size, fetched_at: now, last_pulled_at: now })
      .onConflict((oc) => oc.columns(['upstream', 'repository', 'digest']).doUpdateSet({ kind, size, fetched_at: now, last_pulled_at: now }))
      .execute();
    this.#remember(`${upstream}|${repository}|${digest}`, now);
  }

  /** Notes a serve from the cache; throttled, and never fails the pull it is called from. */
  pulled(upstream: string, repository: string, digest: string): void {
    const key = `${upstream}|${repository}|${digest}`;
    const now = this.#now();
    const last = this.#lastWrite.get(key);
    if (last !== undefined && now - last < PULL_WRITE_INTERVAL_MS) return;
    this.#remember(key, now);
    this.#db.updateTable('proxy_cache_entries').set({ last_pulled_at: now })
      .where('upstream', '=', upstream).where('repository', '=', repository).where('digest', '=', digest)
      .execute().catch(this.#onError);
  }

  async tag(upstream: string, repository: string, tag: string): Promise<CachedTag | undefined> {
    const row = await this.#db.selectFrom('proxy_cache_tags').select(['digest', 'validated_at'])
      .where('upstream', '=', upstream).where('repository', '=', repository).where('tag', '=', tag)
      .executeTakeFirst();
    return row ? { digest: row.digest, validatedAt: Number(row.validated_at) } : undefined;
  }

  async setTag(upstream: string, repository: string, tag: string, digest: string): Promise<void> {
    const now = this.#now();
    await this.#db.insertInto('proxy_cache_tags').values({ upstream, repository, tag, digest, validated_at: now })
      .onConflict((oc) => oc.columns(['upstream', 'repository', 'tag']).doUpdateSet({ digest, validated_at: now }))
      .execute();
  }

  async forgetTag(upstream: string, repository: string, tag: string): Promise<void> {
    await this.#db.deleteFrom('proxy_cache_tags')
      .where('upstream', '=', upstream).where('repository', '=', repository).where('tag', '=', tag).execute();
  }

  #remember(key: string, at: number): void {
    if (this.#lastWrite.size >= MAX_REMEMBERED) this.#lastWrite.clear();
    this.#lastWrite.set(key, at);
  }
}
