// The inventory's writes and point reads (tables/inventory.ts): an artifact recorded with its
// blobs counted once per repository, forgotten with them, pull times applied in batches. Each
// change is one transaction, so a repository's bytes always equal the blobs its rows count.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { ArtifactFacts, Platform } from './facts.js';

type Db = Kysely<MetaTables> | Transaction<MetaTables>;
type ArtifactRow = MetaTables['berth_inventory_artifact'];

export class InventoryBook {
  constructor(readonly db: Kysely<MetaTables>) {}

  /** Records `facts` under `repository` (once: a digest's facts never change); a push also moves the repository's last push. */
  async record(repository: string, facts: ArtifactFacts, pushedAt: number | null): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('berth_inventory_repository').values({ name: repository, last_push_at: pushedAt, size: 0, artifacts: 0 })
        .onConflict((oc) => oc.column('name').doNothing()).execute();
      if (pushedAt !== null) {
        await trx.updateTable('berth_inventory_repository').set({ last_push_at: pushedAt }).where('name', '=', repository)
          .where((eb) => eb.or([eb('last_push_at', 'is', null), eb('last_push_at', '<', pushedAt)])).execute();
      }
      const inserted = await trx.insertInto('berth_inventory_artifact').values(rowOf(repository, facts, pushedAt))
        .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing()).executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return;
      let added = 0;
      for (const [digest, size] of facts.blobs) {
        const fresh = await trx.insertInto('berth_inventory_blob').values({ repository, digest, size, refs: 1 })
          .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing()).executeTakeFirst();
        if (Number(fresh.numInsertedOrUpdatedRows ?? 0) > 0) added += size;
        else await trx.updateTable('berth_inventory_blob').set({ refs: sql`refs + 1` }).where('repository', '=', repository).where('digest', '=', digest).execute();
      }
      for (const child of new Set(facts.children)) {
        await trx.insertInto('berth_inventory_child').values({ repository, parent: facts.digest, child }).onConflict((oc) => oc.doNothing()).execute();
      }
      await trx.updateTable('berth_inventory_repository').set({ size: sql`size + ${added}`, artifacts: sql`artifacts + 1` }).where('name', '=', repository).execute();
    });
  }

  /** Forgets `repository@digest` and the bytes only it counted. */
  async forget(repository: string, digest: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('berth_inventory_artifact').select('blobs').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
      if (!row) return;
      await trx.deleteFrom('berth_inventory_artifact').where('repository', '=', repository).where('digest', '=', digest).execute();
      let removed = 0;
      for (const [blob, size] of JSON.parse(row.blobs) as Array<[string, number]>) {
        await trx.updateTable('berth_inventory_blob').set({ refs: sql`refs - 1` }).where('repository', '=', repository).where('digest', '=', blob).execute();
        const gone = await trx.deleteFrom('berth_inventory_blob').where('repository', '=', repository).where('digest', '=', blob).where('refs', '<=', 0).executeTakeFirst();
        if (Number(gone.numDeletedRows) > 0) removed += size;
      }
      await trx.deleteFrom('berth_inventory_child').where('repository', '=', repository).where('parent', '=', digest).execute();
      await trx.updateTable('berth_inventory_repository').set({ size: sql`size - ${removed}`, artifacts: sql`artifacts - 1` }).where('name', '=', repository).execute();
    });
  }

  async get(repository: string, digest: string): Promise<ArtifactFacts | undefined> {
    const row = await this.db.selectFrom('berth_inventory_artifact').selectAll().where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
    if (!row) return undefined;
    const children = await childrenOf(this.db, repository, digest);
    return factsOf(row, children);
  }

  /** Applies pull times; answers the pulled artifacts the inventory lacks (to be read from storage). */
  async pulled(pulls: Array<{ repository: string; digest: string; at: number }>): Promise<Array<{ repository: string; digest: string; at: number }>> {
    const missing: Array<{ repository: string; digest: string; at: number }> = [];
    for (const p of pulls) {
      const r = await this.db.updateTable('berth_inventory_artifact').set({ last_pulled_at: p.at })
        .where('repository', '=', p.repository).where('digest', '=', p.digest).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) missing.push(p);
    }
    return missing;
  }

  /** Last pull times (ms) of those of `digests` in `repository` ever pulled (retention's `keeppulledwithin`). */
  async lastPulled(repository: string, digests: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < digests.length; i += 500) {
      const rows = await this.db.selectFrom('berth_inventory_artifact').select(['digest', 'last_pulled_at'])
        .where('repository', '=', repository).where('digest', 'in', digests.slice(i, i + 500)).where('last_pulled_at', 'is not', null).execute();
      for (const r of rows) out.set(r.digest, Number(r.last_pulled_at));
    }
    return out;
  }

  /** Tagged and referring manifests of the listing index that the inventory lacks (pushed before it, or by a one-shot command). */
  async missing(limit: number): Promise<Array<{ repository: string; digest: string }>> {
    const tagged = this.db.selectFrom('berth_listing_tag as t').select(['t.repository', 't.digest'])
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('berth_inventory_artifact as a').select('a.digest').whereRef('a.repository', '=', 't.repository').whereRef('a.digest', '=', 't.digest'))));
    const referring = this.db.selectFrom('berth_listing_referrer as r').select(['r.repository', 'r.referrer as digest'])
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('berth_inventory_artifact as a').select('a.digest').whereRef('a.repository', '=', 'r.repository').whereRef('a.digest', '=', 'r.referrer'))));
    return tagged.union(referring).limit(limit).execute();
  }
}

export async function childrenOf(db: Db, repository: string, digest: string): Promise<string[]> {
  return (await db.selectFrom('berth_inventory_child').select('child').where('repository', '=', repository).where('parent', '=', digest).execute()).map((r) => r.child);
}

function rowOf(repository: string, f: ArtifactFacts, pushedAt: number | null) {
  return {
    repository, digest: f.digest, media_type: f.mediaType, artifact_type: f.artifactType, kind: f.kind, subject: f.subject,
    config_digest: f.configDigest, manifest_size: f.manifestSize, size: f.size, platforms: JSON.stringify(f.platforms),
    created: f.created, annotations: JSON.stringify(f.annotations), blobs: JSON.stringify(f.blobs), pushed_at: pushedAt, last_pulled_at: null,
  };
}

export type StoredArtifact = { [K in keyof ArtifactRow]: ArtifactRow[K] extends import('kysely').ColumnType<infer S, unknown, unknown> ? S : ArtifactRow[K] };

export function factsOf(row: StoredArtifact, children: string[]): ArtifactFacts {
  return {
    digest: row.digest, mediaType: row.media_type, artifactType: row.artifact_type, kind: row.kind as ArtifactFacts['kind'],
    subject: row.subject, configDigest: row.config_digest, manifestSize: Number(row.manifest_size), size: Number(row.size),
    platforms: JSON.parse(row.platforms) as Platform[], created: row.created, annotations: JSON.parse(row.annotations) as Record<string, string>,
    blobs: JSON.parse(row.blobs) as Array<[string, number]>, children,
  };
}
