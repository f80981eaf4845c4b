// Pages of repositories for the read API: the listing index's catalog joined with the
// inventory's per-repository facts, filtered by a name substring, sorted by name, last push or
// size, and paged by keyset (a page costs the same on page 1 and page 100). A caller who may
// not see every repository gets pages of those it may see.
import { sql, type Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { containsPattern, encodeCursor, type Cursor } from './cursor.js';
import type { Page, RepositorySummary } from './shapes.js';

export type RepositorySort = 'name' | 'lastPush' | 'size';
export type Order = 'asc' | 'desc';

export interface RepositoryQuery {
  q?: string | undefined;
  /** Only names starting with this (a project's repositories: `team/`). */
  prefix?: string | undefined;
  sort: RepositorySort;
  order: Order;
  limit: number;
  after?: Cursor | undefined;
  /** Keeps the names the caller may see; undefined: all. */
  visible?: ((names: string[]) => Promise<string[]>) | undefined;
}

interface Row { name: string; last_push_at: number | string | null; size: number | string | null; artifacts: number | null; sort_key: number | string }

export async function listRepositories(db: Kysely<MetaTables>, query: RepositoryQuery): Promise<Page<RepositorySummary>> {
  const { limit, visible } = query;
  const batch = visible ? Math.max(limit + 1, 200) : limit + 1;
  const kept: Row[] = [];
  let after = query.after;
  for (;;) {
    const rows = await fetchRows(db, query, after, batch);
    const allowed = visible ? new Set(await visible(rows.map((r) => r.name))) : undefined;
    for (const r of rows) {
      if (!allowed || allowed.has(r.name)) kept.push(r);
      if (kept.length > limit) break;
    }
    if (kept.length > limit || rows.length < batch) break;
    const last = rows[rows.length - 1]!;
    after = { k: keyOf(query.sort, last), t: last.name };
  }
  const page = kept.slice(0, limit);
  const tags = await tagCounts(db, page.map((r) => r.name));
  const last = page[page.length - 1];
  return {
    items: page.map((r) => summaryOf(r, tags)),
    next: kept.length > limit && last ? encodeCursor({ k: keyOf(query.sort, last), t: last.name }) : null,
  };
}

function keyOf(sort: RepositorySort, row: Row): string | number {
  return sort === 'name' ? row.name : Number(row.sort_key);
}

async function fetchRows(db: Kysely<MetaTables>, query: RepositoryQuery, after: Cursor | undefined, n: number): Promise<Row[]> {
  const key = query.sort === 'name' ? sql<string | number>`r.name` : query.sort === 'lastPush' ? sql<string | number>`coalesce(s.last_push_at, -1)` : sql<string | number>`coalesce(s.size, 0)`;
  let q = db.selectFrom('berth_listing_repository as r').leftJoin('berth_inventory_repository as s', 's.name', 'r.name')
    .select(['r.name', 's.last_push_at', 's.size', 's.artifacts', key.as('sort_key')])
    .where('r.present', '=', 1);
  if (query.q) q = q.where(sql<boolean>`r.name like ${containsPattern(query.q.toLowerCase())} escape '\\'`);
  if (query.prefix) q = q.where('r.name', '>=', query.prefix).where('r.name', '<', `${query.prefix}\u{10FFFF}`);
  const desc = query.order === 'desc';
  if (after) {
    if (query.sort === 'name') q = q.where('r.name', desc ? '<' : '>', String(after.k));
    else {
      const k = Number(after.k);
      q = q.where(sql<boolean>`(${key} ${sql.raw(desc ? '<' : '>')} ${k} or (${key} = ${k} and r.name > ${after.t}))`);
    }
  }
  q = q.orderBy(key, desc ? 'desc' : 'asc');
  if (query.sort !== 'name') q = q.orderBy('r.name', 'asc');
  return (await q.limit(n).execute()) as Row[];
}

async function tagCounts(db: Kysely<MetaTables>, names: string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map();
  const rows = await db.selectFrom('berth_listing_tag').select(['repository', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('repository', 'in', names).groupBy('repository').execute();
  return new Map(rows.map((r) => [r.repository, Number(r.n)]));
}

/** One repository's summary; undefined when the catalog does not list it. */
export async function repositorySummary(db: Kysely<MetaTables>, name: string): Promise<RepositorySummary | undefined> {
  const row = await db.selectFrom('berth_listing_repository as r').leftJoin('berth_inventory_repository as s', 's.name', 'r.name')
    .select(['r.name', 's.last_push_at', 's.size', 's.artifacts']).where('r.name', '=', name).where('r.present', '=', 1).executeTakeFirst();
  if (!row) return undefined;
  const tags = await tagCounts(db, [name]);
  return summaryOf({ ...row, sort_key: 0 }, tags);
}

function summaryOf(r: Row, tags: Map<string, number>): RepositorySummary {
  return {
    name: r.name, project: r.name.split('/')[0]!, artifacts: r.artifacts ?? 0, tags: tags.get(r.name) ?? 0,
    sizeBytes: Number(r.size ?? 0), lastPushAt: r.last_push_at === null ? null : new Date(Number(r.last_push_at)).toISOString(),
  };
}
