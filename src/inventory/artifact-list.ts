// Pages of a repository's artifacts for the read API, from the inventory and the listing index
// only: sorted by push time or by name (an artifact's first tag; untagged ones last, by
// digest), filtered by a tag substring, keyset-paged. Index children and referrers are shown
// under their index or subject, not as rows of their own, unless asked for.
import { sql, type Kysely } from 'kysely';
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
  const collate = query.postgres ? sql.raw(' collate "C"') : sql.raw('');
  // Tags match [A-Za-z0-9_.-] and so sort before '~': untagged artifacts come last, by digest.
  const key = query.sort === 'pushed'
    ? sql<string | number>`coalesce(a.pushed_at, -1)`
    : sql<string | number>`coalesce(f.first_tag, '~' || a.digest)${collate}`;
  // First tags in one grouped pass (a correlated min() per artifact took seconds over 5,000 tags).
  const firstTags = db.selectFrom('berth_listing_tag').select(['digest', (eb) => eb.fn.min('tag').as('first_tag')])
    .where('repository', '=', query.repository).groupBy('digest');
  let inner = db.selectFrom('berth_inventory_artifact as a').leftJoin(firstTags.as('f'), 'f.digest', 'a.digest')
    .selectAll('a').select(key.as('sort_key')).where('a.repository', '=', query.repository);
  if (!query.all) {
    // A tagged child (an index's image also pushed by tag) is listed; an untagged one only under its index.
    inner = inner.where('a.subject', 'is', null)
      .where(sql<boolean>`(not exists (select 1 from berth_inventory_child c where c.repository = a.repository and c.child = a.digest)
        or exists (select 1 from berth_listing_tag t where t.repository = a.repository and t.digest = a.digest))`);
  }
  if (query.tag !== undefined || query.tagged !== undefined) {
    const pattern = query.tag !== undefined ? containsPattern(query.tag) : undefined;
    const hasTag = sql<boolean>`exists (select 1 from berth_listing_tag t where t.repository = a.repository and t.digest = a.digest${pattern === undefined ? sql.raw('') : sql` and t.tag like ${pattern} escape '\\'`})`;
    inner = inner.where(query.tagged === false ? sql<boolean>`not ${hasTag}` : hasTag);
  }
  const desc = query.order === 'desc';
  let q = db.selectFrom(inner.as('x')).selectAll();
  if (query.after) {
    const { k, t } = query.after;
    const value = query.sort === 'name' ? String(k) : Number(k);
    q = q.where(sql<boolean>`(x.sort_key ${sql.raw(desc ? '<' : '>')} ${value} or (x.sort_key = ${value} and x.digest > ${t}))`);
  }
  return (await q.orderBy('x.sort_key', desc ? 'desc' : 'asc').orderBy('x.digest', 'asc').limit(query.limit + 1).execute()) as Row[];
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
