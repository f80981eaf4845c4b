// Pages of repositories for the read API: the listing index's catalog joined with the
// inventory's per-repository facts, filtered by a name substring, sorted by name, last push or
// size, and paged by keyset (a page costs the same on page 1 and page 100). A caller who may
// not see every repository gets pages of those it may see.
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
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
  if (query.sort === 'name') return byName(db, query, after, n);
  // Two walks: repositories with the sort's fact (in the order of the inventory's index on it),
  // and those without (key -1, by name), which come last newest/biggest first and first otherwise.
  const desc = query.order === 'desc';
  const inLacking = after !== undefined && Number(after.k) === NONE;
  const walks: Array<(m: number) => Promise<Row[]>> = [];
  if (desc) {
    if (!inLacking) walks.push((m) => withFact(db, query, after, m));
    walks.push((m) => lackingFact(db, query, inLacking ? after : undefined, m));
  } else {
    if (after === undefined || inLacking) walks.push((m) => lackingFact(db, query, after, m));
    walks.push((m) => withFact(db, query, inLacking ? undefined : after, m));
  }
  const rows: Row[] = [];
  for (const walk of walks) {
    if (rows.length >= n) break;
    rows.push(...(await walk(n - rows.length)));
  }
  return rows;
}

/** The key of a repository the inventory has no push time (or no row) for. */
const NONE = -1;

function filters<Q extends { where(condition: Expression<SqlBool>): Q }>(q: Q, query: RepositoryQuery, column: string): Q {
  const name = sql.ref(column);
  if (query.q) q = q.where(sql<boolean>`${name} like ${containsPattern(query.q.toLowerCase())} escape '\\'`);
  if (query.prefix) q = q.where(sql<boolean>`${name} >= ${query.prefix} and ${name} < ${`${query.prefix}\u{10FFFF}`}`);
  return q;
}

async function byName(db: Kysely<MetaTables>, query: RepositoryQuery, after: Cursor | undefined, n: number): Promise<Row[]> {
  let q = db.selectFrom('berth_listing_repository as r').leftJoin('berth_inventory_repository as s', 's.name', 'r.name')
    .select(['r.name', 's.last_push_at', 's.size', 's.artifacts', sql<string>`r.name`.as('sort_key')])
    .where('r.present', '=', 1);
  q = filters(q, query, 'r.name');
  const desc = query.order === 'desc';
  if (after) q = q.where('r.name', desc ? '<' : '>', String(after.k));
  return (await q.orderBy('r.name', desc ? 'desc' : 'asc').limit(n).execute()) as Row[];
}

/** Repositories with the fact, by (fact, name): ties by name ascending in either order (indexes of 0653). */
async function withFact(db: Kysely<MetaTables>, query: RepositoryQuery, after: Cursor | undefined, n: number): Promise<Row[]> {
  const column = query.sort === 'lastPush' ? 's.last_push_at' : 's.size';
  const key = sql.ref(column);
  let q = db.selectFrom('berth_inventory_repository as s').innerJoin('berth_listing_repository as r', 'r.name', 's.name')
    .select(['s.name', 's.last_push_at', 's.size', 's.artifacts', sql<number>`${key}`.as('sort_key')])
    .where('r.present', '=', 1);
  if (query.sort === 'lastPush') q = q.where('s.last_push_at', 'is not', null);
  q = filters(q, query, 's.name');
  const desc = query.order === 'desc';
  if (after) {
    const k = Number(after.k);
    q = q.where(sql<boolean>`${key} ${sql.raw(desc ? '<=' : '>=')} ${k} and (${key} ${sql.raw(desc ? '<' : '>')} ${k} or s.name > ${after.t})`);
  }
  return (await q.orderBy(key, desc ? 'desc' : 'asc').orderBy('s.name', 'asc').limit(n).execute()) as Row[];
}

/** Catalogued repositories the inventory has no such fact for, by name (key -1). */
async function lackingFact(db: Kysely<MetaTables>, query: RepositoryQuery, after: Cursor | undefined, n: number): Promise<Row[]> {
  let q = db.selectFrom('berth_listing_repository as r').leftJoin('berth_inventory_repository as s', 's.name', 'r.name')
    .select(['r.name', 's.last_push_at', 's.size', 's.artifacts', sql<number>`${NONE}`.as('sort_key')])
    .where('r.present', '=', 1)
    .where(query.sort === 'lastPush' ? sql<boolean>`s.last_push_at is null` : sql<boolean>`s.name is null`);
  q = filters(q, query, 'r.name');
  if (after) q = q.where('r.name', '>', after.t);
  return (await q.orderBy('r.name', 'asc').limit(n).execute()) as Row[];
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
