// One artifact for the read API: its summary from the inventory, and what only its own bytes
// say, read by digest (never by a walk): the manifest, the image config and its history, the
// layers, an index's children, and the referrers below it as a tree.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { Registry } from '../registry/registry.js';
import { tryParseDigest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import { readImageConfig } from './facts.js';
import { isoOf, summarize } from './artifact-list.js';
import type { ArtifactDetail, ChildSummary, HistoryEntry, LayerSummary, ReferrerNode } from './shapes.js';

/** How deep and wide the referrer tree goes (a signature of an SBOM of an image is depth 2). */
const TREE_DEPTH = 4;
const TREE_WIDTH = 200;

export async function artifactDetail(db: Kysely<MetaTables>, core: Registry, repository: string, digestText: string): Promise<ArtifactDetail | undefined> {
  const row = await db.selectFrom('berth_inventory_artifact').selectAll().where('repository', '=', repository).where('digest', '=', digestText).executeTakeFirst();
  const digest = tryParseDigest(digestText);
  if (!row || typeof digest === 'string') return undefined;
  const stored = await core.manifests.get(repository, { digest }).catch(() => undefined);
  if (!stored) return undefined;
  const [summary] = await summarize(db, repository, [row]);
  const manifest = JSON.parse(stored.content.toString('utf8')) as Record<string, unknown>;
  const parsed = stored.parsed;
  const config = parsed?.kind === 'image' ? await readImageConfig(core, parsed.blobs[0]) : undefined;
  return {
    ...summary!, repository, manifest, config: config ?? null,
    history: historyOf(config?.history),
    layers: parsed?.kind === 'image' ? layersOf(manifest.layers) : [],
    children: parsed?.kind === 'index' ? await childrenOf(db, repository, parsed.manifests) : [],
    referrerTree: await referrerTree(db, repository, digestText, 0),
  };
}

function historyOf(history: unknown): HistoryEntry[] {
  if (!Array.isArray(history)) return [];
  return history.filter((h): h is Record<string, unknown> => typeof h === 'object' && h !== null).map((h) => ({
    created: typeof h.created === 'string' ? h.created : null,
    createdBy: typeof h.created_by === 'string' ? h.created_by : null,
    comment: typeof h.comment === 'string' ? h.comment : null,
    emptyLayer: h.empty_layer === true,
  }));
}

function layersOf(layers: unknown): LayerSummary[] {
  if (!Array.isArray(layers)) return [];
  return (layers as Descriptor[]).map((l) => ({
    digest: l.digest, mediaType: l.mediaType, sizeBytes: l.size, annotations: l.annotations ?? {}, urls: l.urls ?? [],
  }));
}

async function childrenOf(db: Kysely<MetaTables>, repository: string, manifests: Descriptor[]): Promise<ChildSummary[]> {
  const digests = manifests.map((m) => m.digest);
  const rows = digests.length === 0 ? [] : await db.selectFrom('berth_inventory_artifact').select(['digest', 'size', 'artifact_type'])
    .where('repository', '=', repository).where('digest', 'in', digests).execute();
  const known = new Map(rows.map((r) => [r.digest, r]));
  return manifests.map((m) => {
    const p = m.platform as Record<string, unknown> | undefined;
    const platform = p && typeof p.os === 'string' && typeof p.architecture === 'string' ? {
      os: p.os, architecture: p.architecture,
      ...(typeof p.variant === 'string' ? { variant: p.variant } : {}),
      ...(typeof p['os.version'] === 'string' ? { osVersion: p['os.version'] } : {}),
    } : null;
    const row = known.get(m.digest);
    return {
      digest: m.digest, mediaType: m.mediaType, artifactType: m.artifactType ?? row?.artifact_type ?? null,
      sizeBytes: row ? Number(row.size) : m.size, platform, annotations: m.annotations ?? {},
    };
  });
}

async function referrerTree(db: Kysely<MetaTables>, repository: string, subject: string, depth: number): Promise<ReferrerNode[]> {
  if (depth >= TREE_DEPTH) return [];
  const rows = await db.selectFrom('berth_inventory_artifact').select(['digest', 'media_type', 'artifact_type', 'size', 'pushed_at', 'annotations'])
    .where('repository', '=', repository).where('subject', '=', subject).orderBy('pushed_at').orderBy('digest').limit(TREE_WIDTH).execute();
  const out: ReferrerNode[] = [];
  for (const r of rows) {
    out.push({
      digest: r.digest, mediaType: r.media_type, artifactType: r.artifact_type, sizeBytes: Number(r.size), pushedAt: isoOf(r.pushed_at),
      annotations: JSON.parse(r.annotations) as Record<string, string>, referrers: await referrerTree(db, repository, r.digest, depth + 1),
    });
  }
  return out;
}
