// Enforces the cache limits of the proxied upstreams: plans over the bookkeeping rows
// (eviction-plan.ts), then removes the chosen images from their repositories through the
// registry core (ManifestStore.delete, BlobStore.unlink) and deletes their rows.
//
// Eviction removes links, never blob data: the data of an evicted layer may still be linked
// from another repository (another proxied image, or a pushed one), and only the garbage
// collector (src/gc) sees every repository and runs the online protocol that keeps a
// concurrent push safe. The space therefore comes back at the next GC run (`gc.interval`, or
// `berth gc`), not at eviction time.
//
// Before anything is removed, the plan is checked against the storage itself: a manifest or
// blob that a revision still present in the repository needs (bookkeeping can drift: a crash
// between storage and rows) is kept, and an image pulled since the plan was made is skipped.
// A fill racing the eviction (a new manifest naming a layer being unlinked) heals on its next
// pull: the pull-through cache fetches whatever is not linked, as on any miss.
import type { Kysely } from 'kysely';
import { manifestRefs, type ManifestRefs } from '../gc/references.js';
import { forEachLimit } from '../gc/pool.js';
import type { MetaTables } from '../meta/tables/index.js';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { RegistryError } from '../errors/registry-error.js';
import type { Registry } from '../registry/registry.js';
import type { CacheLimits } from './cache-limits.js';
import { appendAudit } from '../auth/audit.js';
import { appendTo, cacheBytes, planEviction, type CacheEntry, type Eviction } from './eviction-plan.js';

export interface EvictionOptions {
  dryRun?: boolean;
  now?: () => number;
}

export interface EvictedImage {
  repository: string;
  root: string;
  reason: Eviction['reason'];
  manifests: string[];
  blobs: string[];
  freedBytes: number;
}

export interface UpstreamEvictionReport {
  upstream: string;
  maxBytes: number;
  maxAgeMs: number;
  bytesBefore: number;
  bytesAfter: number;
  evicted: EvictedImage[];
  /** Planned, then kept: pulled again while the run was deciding. */
  skipped: { repository: string; root: string }[];
  /** Planned, then refused by the core (an immutable tag, a storage error); tried again next run. */
  failed: { repository: string; root: string; error: string }[];
}

export interface EvictionReport {
  dryRun: boolean;
  startedAt: string;
  durationMs: number;
  upstreams: UpstreamEvictionReport[];
}

type Db = Kysely<MetaTables>;

const PARALLEL = 8;

export async function evictProxyCache(registry: Registry, db: Db, limits: CacheLimits[], options: EvictionOptions = {}): Promise<EvictionReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const upstreams: UpstreamEvictionReport[] = [];
  for (const l of limits) upstreams.push(await evictUpstream(registry, db, l, now(), options.dryRun ?? false));
  return { dryRun: options.dryRun ?? false, startedAt: new Date(started).toISOString(), durationMs: now() - started, upstreams };
}

async function evictUpstream(registry: Registry, db: Db, limits: CacheLimits, now: number, dryRun: boolean): Promise<UpstreamEvictionReport> {
  const entries = await entriesOf(db, limits.upstream);
  if (!overLimits(entries, limits, now)) {
    const bytes = cacheBytes(entries);
    return { ...limits, bytesBefore: bytes, bytesAfter: bytes, evicted: [], skipped: [], failed: [] };
  }
  const refs = await manifestRefsOf(registry, entries.filter((e) => e.kind === 'manifest').map((e) => e.digest));
  const plan = planEviction(entries, (d) => refs.get(d), { maxBytes: limits.maxBytes, maxAgeMs: limits.maxAgeMs, now });
  const report: UpstreamEvictionReport = {
    upstream: limits.upstream, maxBytes: limits.maxBytes, maxAgeMs: limits.maxAgeMs,
    bytesBefore: plan.bytesBefore, bytesAfter: plan.bytesAfter, evicted: [], skipped: [], failed: [],
  };
  if (dryRun) {
    report.evicted = plan.evictions.map(describe);
    return report;
  }
  const pulled = new Map(entries.map((e) => [`${e.repository}@${e.digest}`, e.lastPulledAt]));
  const byRepo = new Map<string, Eviction[]>();
  for (const e of plan.evictions) appendTo(byRepo, e.image.repository, e);
  for (const [repository, evictions] of byRepo) {
    const go: Eviction[] = [];
    for (const e of evictions) {
      if (await pulledSince(db, limits.upstream, repository, e, pulled)) report.skipped.push({ repository, root: e.image.root });
      else go.push(e);
    }
    const needed = await stillNeeded(registry, repository, new Set(go.flatMap((e) => e.manifests)));
    for (const e of go) {
      try {
        report.evicted.push(await removeImage(registry, db, limits.upstream, e, needed));
      } catch (err) {
        report.failed.push({ repository, root: e.image.root, error: (err as Error).message });
      }
    }
  }
  report.bytesAfter = report.bytesBefore - report.evicted.reduce((t, e) => t + e.freedBytes, 0);
  return report;
}

/** Whether a plan can evict anything: cheap checks over the rows, before any manifest is read. */
function overLimits(entries: CacheEntry[], limits: CacheLimits, now: number): boolean {
  if (limits.maxBytes > 0 && cacheBytes(entries) > limits.maxBytes) return true;
  return limits.maxAgeMs > 0 && entries.some((e) => e.lastPulledAt < now - limits.maxAgeMs);
}

async function entriesOf(db: Db, upstream: string): Promise<CacheEntry[]> {
  const rows = await db.selectFrom('proxy_cache_entries')
    .select(['repository', 'digest', 'kind', 'size', 'last_pulled_at'])
    .where('upstream', '=', upstream).execute();
  return rows.map((r) => ({ repository: r.repository, digest: r.digest, kind: r.kind, size: Number(r.size), lastPulledAt: Number(r.last_pulled_at) }));
}

async function manifestRefsOf(registry: Registry, digests: string[]): Promise<Map<string, ManifestRefs>> {
  const out = new Map<string, ManifestRefs>();
  await forEachLimit(new Set(digests), PARALLEL, async (digest) => {
    const d = asDigest(digest);
    const content = d ? await registry.blobs.getSmall(d) : undefined;
    if (content) out.set(digest, manifestRefs(content));
  });
  return out;
}

/** Whether any manifest of the image (its blob, for a blob-only one) was pulled after the plan's snapshot. */
async function pulledSince(db: Db, upstream: string, repository: string, e: Eviction, pulled: Map<string, number>): Promise<boolean> {
  const digests = e.image.manifests.length > 0 ? e.image.manifests : e.image.blobs;
  const rows = await db.selectFrom('proxy_cache_entries').select(['digest', 'last_pulled_at'])
    .where('upstream', '=', upstream).where('repository', '=', repository).where('digest', 'in', digests).execute();
  return rows.some((r) => Number(r.last_pulled_at) > (pulled.get(`${repository}@${r.digest}`) ?? Infinity));
}

/** Digests the repository's revisions other than `leaving` reach (children, subjects, blobs). */
async function stillNeeded(registry: Registry, repository: string, leaving: Set<string>): Promise<Set<string>> {
  const staying = [...(await registry.maintenance.inventory.revisionTimes(repository)).keys()].filter((d) => !leaving.has(d));
  const refs = await manifestRefsOf(registry, staying);
  const needed = new Set<string>(staying);
  for (const r of refs.values()) {
    for (const d of [...r.blobs, ...r.children, ...(r.subject ? [r.subject] : [])]) needed.add(d);
  }
  return needed;
}

async function removeImage(registry: Registry, db: Db, upstream: string, e: Eviction, needed: Set<string>): Promise<EvictedImage> {
  const { repository } = e.image;
  const manifests = e.manifests.filter((d) => !needed.has(d));
  const blobs = e.blobs.filter((d) => !needed.has(d));
  // Parents first: an index never names a child that is already gone.
  for (const digest of manifests) {
    const d = asDigest(digest);
    if (d) await ignoreUnknown(registry.manifests.delete(repository, { digest: d }));
  }
  for (const digest of blobs) {
    const d = asDigest(digest);
    if (d) await ignoreUnknown(registry.blobs.unlink(repository, d));
  }
  const gone = [...manifests, ...blobs];
  if (gone.length > 0) {
    await db.deleteFrom('proxy_cache_entries')
      .where('upstream', '=', upstream).where('repository', '=', repository).where('digest', 'in', gone).execute();
  }
  // One audit record per manifest deleted: the eviction's reason, not a person, removed it.
  for (const digest of manifests) {
    await appendAudit(db, { actor: 'proxy-eviction', address: '', action: 'delete', target: `${repository}@${digest}`, detail: { upstream, reason: e.reason, image: e.image.root } });
  }
  if (manifests.length > 0) {
    await db.deleteFrom('proxy_cache_tags')
      .where('upstream', '=', upstream).where('repository', '=', repository).where('digest', 'in', manifests).execute();
  }
  // Content kept because storage still needs it keeps its row, so it stays counted in the cache.
  const removed = new Set(gone);
  const freedBytes = e.freed.filter((f) => removed.has(f.digest)).reduce((t, f) => t + f.size, 0);
  return { ...describe(e), manifests, blobs, freedBytes };
}

function describe(e: Eviction): EvictedImage {
  return { repository: e.image.repository, root: e.image.root, reason: e.reason, manifests: e.manifests, blobs: e.blobs, freedBytes: e.freedBytes };
}

function asDigest(text: string): Digest | undefined {
  const d = tryParseDigest(text);
  return typeof d === 'string' ? undefined : d;
}

async function ignoreUnknown(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (err instanceof RegistryError && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'BLOB_UNKNOWN')) return;
    throw err;
  }
}
