#!/usr/bin/env node
// The review worker at scale: on a registry written by generate.mjs and imported into the
// metadata database (`berth index rebuild`), deletes one tagged image's tag and times the one
// review pass that reclaims it (its manifest, then the blobs it alone referenced), counting the
// storage calls by kind through a counting driver; then the database's cost per manifest PUT
// (the same pushes with and without the metadata index). Usage (after npm run build):
//   node bench/gc/review.mjs DATA_DIR META_SQLITE
import { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { Registry } from '../../dist/src/registry/registry.js';
import { FilesystemDriver } from '../../dist/src/storage/drivers/filesystem/index.js';
import { StorageListing } from '../../dist/src/registry/storage-listing.js';
import { MetaListingIndex } from '../../dist/src/meta/listing-index.js';
import { openMetaDatabase } from '../../dist/src/meta/database.js';
import { reviewOnce } from '../../dist/src/gc/review-worker.js';
import { tryParseDigest } from '../../dist/src/oci/digest.js';

const [dir, sqlite] = process.argv.slice(2);
if (!dir || !sqlite) {
  console.error('usage: review.mjs DATA_DIR META_SQLITE');
  process.exit(2);
}

/** Counts every driver call by method and the list() calls of the two top-level trees. */
function counting(driver) {
  const calls = {};
  const walks = [];
  const wrapped = new Proxy(driver, {
    get(t, prop) {
      const v = Reflect.get(t, prop, t);
      if (typeof v !== 'function') return v;
      return (...args) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        if (prop === 'list' && /\/(repositories|blobs)\/?$/.test(String(args[0]))) walks.push(args[0]);
        return v.apply(t, args);
      };
    },
  });
  return { driver: wrapped, calls, walks, reset() { for (const k of Object.keys(calls)) delete calls[k]; walks.length = 0; } };
}

const quiet = { info() {}, warn() {} };
const meta = await openMetaDatabase({ sqlite: { path: sqlite } });
const c = counting(new FilesystemDriver(dir));
const registry = new Registry(c.driver, { index: new MetaListingIndex(meta, new StorageListing(c.driver), { log: quiet }) });

const row = await meta.db.selectFrom('berth_listing_tag').select(['repository', 'tag', 'digest']).orderBy('repository').limit(1).executeTakeFirstOrThrow();
const blobsBefore = await meta.db.selectFrom('berth_ref_manifest_blob').select('blob').where('repository', '=', row.repository).where('manifest', '=', row.digest).execute();
const queued = await meta.db.selectFrom('berth_gc_review').select('digest').execute();
console.log(`review queue before: ${queued.length} rows; reclaiming ${row.repository}:${row.tag} (${row.digest}, ${blobsBefore.length} blobs incl. the manifest)`);
await registry.manifests.delete(row.repository, { tag: row.tag });
c.reset();
const t0 = performance.now();
const report = await reviewOnce(meta, registry, { graceMs: 0, untagged: 'delete', now: () => Date.now() + 60_000 });
const ms = performance.now() - t0;
console.log(`one review pass: ${ms.toFixed(1)} ms; ${report.manifests.length} manifest(s) and ${report.blobs.length} blob(s) deleted, ${report.kept} kept`);
console.log(`storage calls: ${JSON.stringify(c.calls)}; list() of repositories/ or blobs/: ${c.walks.length}`);

// Database cost per manifest PUT: the same small images pushed through the core with the index and without it.
async function pushes(reg, repo, n) {
  const digest = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const times = [];
  for (let i = 0; i < n; i++) {
    const config = Buffer.from(JSON.stringify({ os: 'linux', bench: repo, i }));
    const layer = randomBytes(512);
    for (const b of [config, layer]) {
      const id = await reg.uploads.start(repo);
      await reg.uploads.complete(repo, id, tryParseDigest(digest(b)), Readable.from([b]));
    }
    const m = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(layer), size: layer.length }],
    }));
    const t = performance.now();
    await reg.manifests.put(repo, { tag: `v${i}` }, m, 'application/vnd.oci.image.manifest.v1+json');
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { mean: times.reduce((a, b) => a + b, 0) / n, p50: times[Math.floor(n / 2)], p95: times[Math.floor(n * 0.95)] };
}
const N = 200;
const plain = new Registry(new FilesystemDriver(dir));
const without = await pushes(plain, 'bench/plain', N);
const withIndex = await pushes(registry, 'bench/indexed', N);
const f = (x) => `mean ${x.mean.toFixed(2)} ms, p50 ${x.p50.toFixed(2)}, p95 ${x.p95.toFixed(2)}`;
console.log(`manifest PUT (core, ${N} each): without the metadata index ${f(without)}; with index + reference tables + usage ${f(withIndex)}`);
await meta.close();
