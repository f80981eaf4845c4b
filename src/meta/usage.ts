// Storage usage per repository and per project, read from the counters the reference writer
// keeps (src/meta/usage-counter.ts). Other features build on this reader: the quota policy, the
// `berth_storage_project_bytes` metric, `berth usage` and the read API's usage routes.
//
// `totalBytes` is deduplicated within the owner (a blob shared by two repositories of a project
// counts once for the project) and kept incrementally. `uniqueBytes` is what deleting the owner
// would free (held by no sibling repository, or by no other project); `sharedBytes` the rest.
// Those two are computed when asked, over the owner's blobs only.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MetaTables } from './tables/index.js';
import type { MetaDatabase } from './database.js';

export interface Usage {
  totalBytes: number;
  uniqueBytes: number;
  sharedBytes: number;
}

export interface RepositoryUsage extends Usage {
  repository: string;
  project: string;
  manifests: number;
}

export interface ProjectUsage extends Usage {
  project: string;
  repositories: number;
}

export interface UsageReader {
  /** Every project holding content, by name. */
  projects(): Promise<ProjectUsage[]>;
  project(project: string): Promise<ProjectUsage | undefined>;
  /** Repositories holding content (of one project, or all), by name. */
  repositories(project?: string): Promise<RepositoryUsage[]>;
  repository(repository: string): Promise<RepositoryUsage | undefined>;
  /** Deduplicated bytes per project, cheaply (for metrics). */
  projectTotals(): Promise<Map<string, number>>;
  /** Bytes of `blobs` (distinct digests) the project does not hold yet: what a push would add. */
  newBytes(project: string, blobs: { digest: string; size: number }[]): Promise<number>;
}

const CHUNK = 500;

export class MetaUsageReader implements UsageReader {
  readonly #meta: MetaDatabase;

  constructor(meta: MetaDatabase) {
    this.#meta = meta;
  }

  async projects(): Promise<ProjectUsage[]> {
    return this.#projects(undefined);
  }

  async project(project: string): Promise<ProjectUsage | undefined> {
    return (await this.#projects(project))[0];
  }

  async repositories(project?: string): Promise<RepositoryUsage[]> {
    return this.#repositories(project, undefined);
  }

  async repository(repository: string): Promise<RepositoryUsage | undefined> {
    return (await this.#repositories(undefined, repository))[0];
  }

  async projectTotals(): Promise<Map<string, number>> {
    const rows = await this.#meta.db.selectFrom('berth_usage_project').select(['project', 'bytes']).orderBy('project').execute();
    return new Map(rows.map((r) => [r.project, Number(r.bytes)]));
  }

  async newBytes(project: string, blobs: { digest: string; size: number }[]): Promise<number> {
    return newBytesIn(this.#meta.db, project, blobs);
  }

  async #projects(only: string | undefined): Promise<ProjectUsage[]> {
    const db = this.#meta.db;
    let totals = db.selectFrom('berth_usage_project').select(['project', 'bytes']);
    if (only !== undefined) totals = totals.where('project', '=', only);
    const rows = await totals.orderBy('project').execute();
    if (rows.length === 0) return [];
    // Held by this project only: no other project's row for the same blob.
    let unique = db.selectFrom('berth_usage_project_blob as pb')
      .select(['pb.project', sql<number | string>`sum(pb.size)`.as('bytes')])
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('berth_usage_project_blob as o').select('o.blob')
        .whereRef('o.blob', '=', 'pb.blob').whereRef('o.project', '<>', 'pb.project'))))
      .groupBy('pb.project');
    if (only !== undefined) unique = unique.where('pb.project', '=', only);
    const uniques = new Map((await unique.execute()).map((r) => [r.project, Number(r.bytes)]));
    let counts = db.selectFrom('berth_usage_repository').select(['project', sql<number | string>`count(*)`.as('n')]).groupBy('project');
    if (only !== undefined) counts = counts.where('project', '=', only);
    const repositories = new Map((await counts.execute()).map((r) => [r.project, Number(r.n)]));
    return rows.map((r) => figures({ project: r.project, repositories: repositories.get(r.project) ?? 0 }, Number(r.bytes), uniques.get(r.project) ?? 0));
  }

  async #repositories(project: string | undefined, only: string | undefined): Promise<RepositoryUsage[]> {
    const db = this.#meta.db;
    let totals = db.selectFrom('berth_usage_repository').select(['repository', 'project', 'bytes', 'manifests']);
    if (project !== undefined) totals = totals.where('project', '=', project);
    if (only !== undefined) totals = totals.where('repository', '=', only);
    const rows = await totals.orderBy('repository').execute();
    if (rows.length === 0) return [];
    // Held by this repository only within its project: the project's count for the blob is 1.
    let unique = db.selectFrom('berth_usage_repository_blob as rb')
      .innerJoin('berth_usage_repository as r', 'r.repository', 'rb.repository')
      .innerJoin('berth_usage_project_blob as pb', (j) => j.onRef('pb.project', '=', 'r.project').onRef('pb.blob', '=', 'rb.blob'))
      .select(['rb.repository', sql<number | string>`sum(rb.size)`.as('bytes')])
      .where('pb.refs', '=', 1)
      .groupBy('rb.repository');
    if (project !== undefined) unique = unique.where('r.project', '=', project);
    if (only !== undefined) unique = unique.where('rb.repository', '=', only);
    const uniques = new Map((await unique.execute()).map((r) => [r.repository, Number(r.bytes)]));
    return rows.map((r) => figures({ repository: r.repository, project: r.project, manifests: Number(r.manifests) }, Number(r.bytes), uniques.get(r.repository) ?? 0));
  }
}

function figures<T extends object>(base: T, totalBytes: number, uniqueBytes: number): T & Usage {
  return { ...base, totalBytes, uniqueBytes, sharedBytes: totalBytes - uniqueBytes };
}

type Db = Kysely<MetaTables> | Transaction<MetaTables>;

/** Bytes of `blobs` (distinct digests) the project does not hold yet, read through `db` (a transaction, say). */
export async function newBytesIn(db: Db, project: string, blobs: { digest: string; size: number }[]): Promise<number> {
  const sizes = new Map(blobs.map((b) => [b.digest, b.size]));
  const digests = [...sizes.keys()];
  for (let i = 0; i < digests.length; i += CHUNK) {
    const held = await db.selectFrom('berth_usage_project_blob').select('blob')
      .where('project', '=', project).where('blob', 'in', digests.slice(i, i + CHUNK)).execute();
    for (const h of held) sizes.delete(h.blob);
  }
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
}

/** The project's deduplicated bytes, read through `db`. */
export async function projectBytesIn(db: Db, project: string): Promise<number> {
  const row = await db.selectFrom('berth_usage_project').select('bytes').where('project', '=', project).executeTakeFirst();
  return row ? Number(row.bytes) : 0;
}
