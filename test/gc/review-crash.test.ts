// kill -9 in the middle of a review: a berth serve child reviewing a large batch (hundreds of
// untagged manifests and their layers) is killed while it deletes; after a restart the review
// completes (the dead worker's rows come due again after gc.review.lease), and storage equals
// the database: the blobs in storage are exactly those known revisions reference, the revisions
// are exactly the known manifests, no deletion mark or layer link to a deleted blob is left,
// the reconciler finds nothing, and the image that stays tagged pulls whole.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from '../../src/registry/registry.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { MetaListingIndex } from '../../src/meta/listing-index.js';
import { openMetaDatabase, type MetaDatabase } from '../../src/meta/database.js';
import { pendingReviews } from '../../src/meta/review-queue.js';
import type { ReconcileReport } from '../../src/gc/reconcile.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { d, putImage } from '../support/seed.js';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { berthJson } from '../support/cli.js';
import { TEMP_MARKER } from '../../src/server/temp-file-sweep.js';

const quiet = { info: () => {}, warn: () => {} };
const IMAGES = 250;
const LAYERS = 3;
const V2 = 'docker/registry/v2';
const ENV = {
  REGISTRY_GC_UNTAGGED: 'delete', REGISTRY_GC_REVIEW_GRACE: '0s', REGISTRY_GC_REVIEW_INTERVAL: '100ms',
  REGISTRY_GC_REVIEW_LEASE: '2s', REGISTRY_GC_TAGRESTORE: '0',
};

/** A directory's entries but the driver's temporaries (a delete cut short sets its entry aside under such a name). */
async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((e) => !e.includes(TEMP_MARKER));
}

/** Digests of the blobs in storage (a directory listing, not through Berth). */
async function storedBlobs(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  const base = join(root, V2, 'blobs', 'sha256');
  for (const prefix of await entries(base)) {
    for (const hex of await entries(join(base, prefix))) out.add(`sha256:${hex}`);
  }
  return out;
}

async function listDigests(dir: string): Promise<string[]> {
  return (await entries(join(dir, 'sha256'))).map((h) => `sha256:${h}`);
}

describe('kill -9 during a review', () => {
  let dir: string | undefined;
  let root: string;
  let berth: BerthProcess | undefined;
  const config = blob('{"crash":"test"}');
  const keptLayer = blob('kept layer, shared with the first doomed image');
  let kept: ReturnType<typeof imageManifest>;
  before(async () => {
    dir = await tempDir('review-crash');
    root = join(dir, 'data');
    const meta = await openMetaDatabase({ sqlite: { path: join(root, 'berth', 'meta.sqlite') } });
    try {
      const driver = new FilesystemDriver(root);
      const registry = new Registry(driver, { index: new MetaListingIndex(meta, new StorageListing(driver), { log: quiet }) });
      kept = imageManifest(config, [keptLayer]);
      await putImage(registry, 'team/keep', config, [keptLayer], kept, 'v1');
      for (let i = 0; i < IMAGES; i++) {
        const layers = Array.from({ length: LAYERS }, (_, j) => blob(`doomed ${i}.${j}`));
        if (i === 0) layers.push(keptLayer);
        const m = imageManifest(config, layers);
        await putImage(registry, `team/doomed${i % 5}`, config, layers, m, `t${i}`);
        // Half lose their tag (the review deletes the manifest, then its blobs); half are deleted by digest (blobs only).
        if (i % 2 === 0) await registry.manifests.delete(`team/doomed${i % 5}`, { tag: `t${i}` });
        else await registry.manifests.delete(`team/doomed${i % 5}`, { digest: d(m.digest) });
      }
    } finally {
      await meta.close();
    }
  });
  after(async () => {
    await berth?.stop('SIGKILL').catch(() => {});
    await removeDir(dir);
  });

  it('leaves nothing half-done: after a restart the review completes and storage equals the database', async () => {
    const before = (await storedBlobs(root)).size;
    const final = 1 + 1 + 1; // config, kept layer, kept manifest
    berth = await startBerth({ root, env: ENV });
    let during = before;
    for (let i = 0; during === before; i++) {
      assert.ok(i < 3000, 'the review never started');
      await sleep(10);
      during = (await storedBlobs(root)).size;
    }
    await berth.stop('SIGKILL');
    berth = undefined;
    const atKill = (await storedBlobs(root)).size;
    assert.ok(atKill > final, `killed mid-review: ${atKill} blobs of ${before} left (the review had not finished)`);

    berth = await startBerth({ root, env: ENV });
    const meta: MetaDatabase = await openMetaDatabase({ sqlite: { path: join(root, 'berth', 'meta.sqlite') } });
    try {
      for (let i = 0; (await pendingReviews(meta)) > 0 || (await storedBlobs(root)).size > final; i++) {
        assert.ok(i < 1200, `the review did not complete after the restart: ${await pendingReviews(meta)} rows, ${(await storedBlobs(root)).size} blobs\n${berth.logs()}`);
        await sleep(100);
      }
      const referenced = new Set((await meta.db.selectFrom('berth_ref_manifest_blob').select('blob').distinct().execute()).map((r) => r.blob));
      assert.deepEqual([...await storedBlobs(root)].sort(), [...referenced].sort(), 'the blobs in storage are exactly those the database references');
      assert.deepEqual([...referenced].sort(), [config.digest, keptLayer.digest, kept.digest].sort());
      const manifests = await meta.db.selectFrom('berth_ref_manifest').select(['repository', 'digest']).execute();
      assert.deepEqual(manifests.map((m) => `${m.repository}@${m.digest}`), [`team/keep@${kept.digest}`]);
      const repos = join(root, V2, 'repositories', 'team');
      for (const name of await readdir(repos)) {
        assert.deepEqual(await listDigests(join(repos, name, '_manifests', 'revisions')), name === 'keep' ? [kept.digest] : [], `${name} revisions`);
        const links = await listDigests(join(repos, name, '_layers'));
        assert.deepEqual(links.filter((l) => !referenced.has(l)), [], `${name}: no layer link to a deleted blob`);
      }
      assert.deepEqual(await listDigests(join(root, V2, '_berth', 'gc', 'pending')), [], 'no deletion mark left');
    } finally {
      await meta.close();
    }
    const cfg = join(dir!, 'config.yml');
    await writeFile(cfg, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(root)}\n`);
    const report = await berthJson<ReconcileReport>(['gc', '--reconcile', '-c', cfg, '--grace', '0s', '--json']);
    assert.deepEqual([report.unknown, report.removed, report.missing], [[], { blobs: [], manifests: [], layerLinks: [] }, { manifests: [], blobs: [] }]);
    for (const b of [config, keptLayer]) {
      const res = await fetch(`${berth.url}/v2/team/keep/blobs/${b.digest}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), b.data);
    }
    assert.equal((await fetch(`${berth.url}/v2/team/keep/manifests/v1`)).status, 200);
  });
});
