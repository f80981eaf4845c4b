// Pages of a repository's artifacts for the read API, from the inventory and the listing index
// only: sorted by push time or by name (an artifact's first tag; untagged ones last, by
// digest), filtered by a tag substring, keyset-paged. Index children and referrers are shown
// under their index or subject, not as rows of their own, unless asked for.
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { StoredArtifact } from './book.js';
import { containsPattern, encodeCursor, type Cursor } from './cursor.js';
import type { Platform } from './facts.js';
import { referrerKind } from './referrer-kinds.js';
import type { Order } from './repository-list.js';
import type { ArtifactSummary, Page, ReferrerCounts } from './shapes.js';

export type ArtifactSort = 'pushed' | 'name';

export interface ArtifactQuery {
  repository: string;
  tag?: string | undefined;
  /** Only artifacts with a tag (true) or without one (false). */
  tagged?: boolean | undefined;
  sort: ArtifactSort;
  order: Order;
  limit: number;
  after?: Cursor | undefined;
  /** List index children and referrers as rows too. */
  all?: boolean | undefined;
  postgres: boolean;
}

type Row = StoredArtifact & { sort_key: string | number };

export async function listArtifacts(db: Kysely<MetaTables>, query: ArtifactQuery): Promise<Page<ArtifactSummary>> {
  const rows = await fetchRows(db, query);
  const page = rows.slice(0, query.limit);
  const items = await summarize(db, query.repository, page);
  const last = page[page.length - 1];
  return { items, next: rows.length > query.limit && last ? encodeCursor({ k: keyOf(query.sort, last), t: last.digest }) : null };
}

function keyOf(sort: ArtifactSort, row: Row): string | number {
  return sort === 'name' ? String(row.sort_key) : Number(row.sort_key);
}

async function fetchRows(db: Kysely<MetaTables>, query: ArtifactQuery): Promise<Row[]> {
  return query.sort === 'pushed' ? byPushTime(db, query) : byName(db, query);
}

/** Newest (or oldest) first, ties by digest in the same direction: one walk of the (repository, push time, digest) index (0651). */
async function byPushTime(db: Kysely<MetaTables>, query: ArtifactQuery): Promise<Row[]> {
  const desc = query.order === 'desc';
  const key = sql<number>`coalesce(a.pushed_at, -1)`;
  let q = filtered(db.selectFrom('berth_inventory_artifact as a').selectAll('a').select(key.as('sort_key')).where('a.repository', '=', query.repository), query, 'either');
  if (query.after) {
    // Spelled as a range on the key (not a row value) so that SQLite seeks the index to it.
    const [k, t] = [Number(query.after.k), query.after.t];
    q = q.where(sql<boolean>`${key} ${sql.raw(desc ? '<=' : '>=')} ${k} and (${key} ${sql.raw(desc ? '<' : '>')} ${k} or a.digest ${sql.raw(desc ? '<' : '>')} ${t})`);
  }
  const dir = desc ? 'desc' : 'asc';
  return (await q.orderBy(key, dir).orderBy('a.digest', dir).limit(query.limit + 1).execute()) as Row[];
}

/**
 * By first tag, untagged artifacts after every tagged one, by digest (their key is '~' and the
 * digest: tags match [A-Za-z0-9_.-] and sort before '~'). Two index walks instead of one sort of
 * every artifact: tagged ones in tag order, keeping each artifact at its first tag only; then
 * untagged ones in digest order. Descending, the walks run in reverse and untagged come first.
 */
async function byName(db: Kysely<MetaTables>, query: ArtifactQuery): Promise<Row[]> {
  const desc = query.order === 'desc';
  const after = query.after === undefined ? undefined : String(query.after.k);
  const inUntagged = after?.startsWith('~') ?? false;
  const want = query.limit + 1;
  const walks: Array<(n: number) => Promise<Row[]>> = [];
  const tagged = (from: string | undefined) => (n: number) => taggedWalk(db, query, from, n);
  const untagged = (from: string | undefined) => (n: number) => untaggedWalk(db, query, from, n);
  if (!desc) {
    if (!inUntagged) walks.push(tagged(after));
    walks.push(untagged(inUntagged ? after!.slice(1) : undefined));
  } else {
    if (after === undefined || inUntagged) walks.push(untagged(after?.slice(1)));
    walks.push(tagged(inUntagged ? undefined : after));
  }
  const rows: Row[] = [];
  for (const walk of walks) {
    if (rows.length >= want) break;
    rows.push(...(await walk(want - rows.length)));
  }
  return rows;
}

async function taggedWalk(db: Kysely<MetaTables>, query: ArtifactQuery, after: string | undefined, n: number): Promise<Row[]> {
  if (query.tagged === false) return [];
  const desc = query.order === 'desc';
  let q = db.selectFrom('berth_listing_tag as t')
    .innerJoin('berth_inventory_artifact as a', (j) => j.onRef('a.repository', '=', 't.repository').onRef('a.digest', '=', 't.digest'))
    .selectAll('a').select('t.tag as sort_key')
    .where('t.repository', '=', query.repository)
    .where(sql<boolean>`not exists (select 1 from berth_listing_tag f where f.repository = t.repository and f.digest = t.digest and f.tag < t.tag)`);
  q = filtered(q, query, 'tagged');
  if (after !== undefined) q = q.where('t.tag', desc ? '<' : '>', after);
  return (await q.orderBy('t.tag', desc ? 'desc' : 'asc').limit(n).execute()) as Row[];
}

async function untaggedWalk(db: Kysely<MetaTables>, query: ArtifactQuery, after: string | undefined, n: number): Promise<Row[]> {
  if (query.tagged === true || query.tag !== undefined) return [];
  const desc = query.order === 'desc';
  let q = db.selectFrom('berth_inventory_artifact as a').selectAll('a').select(sql<string>`'~' || a.digest`.as('sort_key'))
    .where('a.repository', '=', query.repository)
    .where(sql<boolean>`not exists (select 1 from berth_listing_tag t where t.repository = a.repository and t.digest = a.digest)`);
  q = filtered(q, query, 'untagged');
  if (after !== undefined) q = q.where('a.digest', desc ? '<' : '>', after);
  return (await q.orderBy('a.digest', desc ? 'desc' : 'asc').limit(n).execute()) as Row[];
}

/**
 * The list's filters on artifact `a`. `known`: what the walk already knows of its tags. Index
 * children and referrers are left to their index or subject unless `all`; a tagged child (an
 * index's image also pushed by tag) is listed.
 */
function filtered<Q extends { where(condition: Expression<SqlBool>): Q }>(q: Q, query: ArtifactQuery, known: 'tagged' | 'untagged' | 'either'): Q {
  const hasAnyTag = sql<boolean>`exists (select 1 from berth_listing_tag t2 where t2.repository = a.repository and t2.digest = a.digest)`;
  if (!query.all) {
    q = q.where(sql<boolean>`a.subject is null`);
    if (known !== 'tagged') {
      const notChild = sql<boolean>`not exists (select 1 from berth_inventory_child c where c.repository = a.repository and c.child = a.digest)`;
      q = q.where(known === 'untagged' ? notChild : sql<boolean>`(${notChild} or ${hasAnyTag})`);
    }
  }
  if (query.tag !== undefined) {
    // Case-insensitive on both databases (SQLite's LIKE is, PostgreSQL's is not).
    const pattern = containsPattern(query.tag.toLowerCase());
    q = q.where(sql<boolean>`exists (select 1 from berth_listing_tag t2 where t2.repository = a.repository and t2.digest = a.digest and lower(t2.tag) like ${pattern} escape '\\')`);
  } else if (query.tagged !== undefined && known === 'either') {
    q = q.where(query.tagged ? hasAnyTag : sql<boolean>`not ${hasAnyTag}`);
  }
  return q;
}

/** The summaries of `rows`: their tags and referrer counts in one query each. */
export async function summarize(db: Kysely<MetaTables>, repository: string, rows: StoredArtifact[]): Promise<ArtifactSummary[]> {
  if (rows.length === 0) return [];
  const digests = rows.map((r) => r.digest);
  const tags = new Map<string, string[]>();
  const tagRows = await db.selectFrom('berth_listing_tag').select(['digest', 'tag']).where('repository', '=', repository).where('digest', 'in', digests).orderBy('tag').execute();
  for (const t of tagRows) tags.set(t.digest, [...(tags.get(t.digest) ?? []), t.tag]);
  const counts = new Map<string, ReferrerCounts>();
  const refRows = await db.selectFrom('berth_inventory_artifact').select(['subject', 'artifact_type', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('repository', '=', repository).where('subject', 'in', digests).groupBy(['subject', 'artifact_type']).execute();
  for (const r of refRows) {
    const c = counts.get(r.subject!) ?? emptyCounts();
    const n = Number(r.n);
    const type = r.artifact_type ?? 'unknown';
    c.total += n;
    c.byArtifactType[type] = (c.byArtifactType[type] ?? 0) + n;
    const kind = referrerKind(r.artifact_type);
    if (kind === 'signature') c.signatures += n;
    else if (kind === 'sbom') c.sboms += n;
    else if (kind === 'attestation') c.attestations += n;
    counts.set(r.subject!, c);
  }
  return rows.map((r) => ({
    digest: r.digest, mediaType: r.media_type, artifactType: r.artifact_type, kind: r.kind as ArtifactSummary['kind'],
    sizeBytes: Number(r.size),
    platforms: (JSON.parse(r.platforms) as Platform[]).map(({ size, ...p }) => ({ ...p, sizeBytes: size })),
    created: r.created, pushedAt: isoOf(r.pushed_at), lastPulledAt: isoOf(r.last_pulled_at),
    tags: tags.get(r.digest) ?? [], subject: r.subject, referrers: counts.get(r.digest) ?? emptyCounts(),
    annotations: JSON.parse(r.annotations) as Record<string, string>,
  }));
}

function emptyCounts(): ReferrerCounts {
  return { total: 0, signatures: 0, sboms: 0, attestations: 0, byArtifactType: {} };
}

export function isoOf(ms: number | string | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}
