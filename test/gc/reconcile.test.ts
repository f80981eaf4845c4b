// The reconciler (`berth gc --reconcile`) on SQLite and a real PostgreSQL: objects planted in
// storage behind the database's back (a blob, an untagged revision with its own layer, a layer
// link to nothing) are reported, kept through the grace across runs and removed on the first
// run past it; database rows whose storage was removed are reported; a revision storage tags is
// re-read into the index, never removed; pushed images stay whole. The review deletes a blob's
// layer links with it. And the real binary, on a directory a running berth serve uses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { MetaListingIndex } from '../../src/meta/listing-index.js';
import type { MetaDatabase } from '../../src/meta/database.js';
import { reconcile, type ReconcileReport } from '../../src/gc/reconcile.js';
import { reviewOnce } from '../../src/gc/review-worker.js';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { blob, imageManifest, randomBlob, type Blob, type Manifest } from '../support/oci-fixtures.js';
import { d, hasBlob, putImage } from '../support/seed.js';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { pushImage } from '../support/push.js';
import { runBerth } from '../support/cli.js';

const quiet = { info: () => {}, warn: () => {} };
const HOUR = 3_600_000;
const V2 = '/docker/registry/v2';
const hex = (digest: string) => digest.slice('sha256:'.length);
const blobPath = (digest: string) => `${V2}/blobs/sha256/${hex(digest).slice(0, 2)}/${hex(digest)}/data`;
const layerLink = (repo: string, digest: string) => `${V2}/repositories/${repo}/_layers/sha256/${hex(digest)}/link`;
const revisionLink = (repo: string, digest: string) => `${V2}/repositories/${repo}/_manifests/revisions/sha256/${hex(digest)}/link`;

function setup(meta: MetaDatabase): { registry: Registry; driver: StorageDriver } {
  const driver = new MemoryDriver();
  const index = new MetaListingIndex(meta, new StorageListing(driver), { log: quiet });
  return { registry: new Registry(driver, { index }), driver };
}

/** Writes content the way a push would, but straight into storage: the database never hears of it. */
async function plantBlob(driver: StorageDriver, b: Blob | Manifest): Promise<void> {
  await driver.putContent(blobPath(b.digest), 'body' in b ? b.body : b.data);
}

function objects(r: ReconcileReport): string[] {
  return r.unknown.map((u) => `${u.kind} ${u.repository}${u.repository ? '@' : ''}${u.digest}`).sort();
}

forEachMetaDatabase('reconciler', (backend) => {
  it('a dry run records no first sighting: the grace starts at the first real run', async () => {
    const meta = await backend.open();
    try {
      const { registry, driver } = setup(meta);
      const loose = blob('planted for the dry run');
      await plantBlob(driver, loose);
      const t0 = Date.now();
      const dry = await reconcile(meta, registry, { graceMs: HOUR, now: () => t0, dryRun: true });
      assert.deepEqual(objects(dry), [`blob ${loose.digest}`]);
      assert.equal(dry.unknown[0]?.firstSeen, new Date(t0).toISOString());
      assert.deepEqual(await meta.db.selectFrom('berth_gc_orphan').selectAll().execute(), [], 'the dry run wrote no row');
      // Two hours later: had the dry run recorded t0, this run would remove the blob; it only records it.
      const real = await reconcile(meta, registry, { graceMs: HOUR, now: () => t0 + 2 * HOUR });
      assert.deepEqual(real.removed.blobs, []);
      assert.equal(real.unknown[0]?.firstSeen, new Date(t0 + 2 * HOUR).toISOString());
      assert.ok(await hasBlob(registry, loose.digest), 'still stored');
      // A later dry run past the grace removes nothing and forgets nothing.
      const later = await reconcile(meta, registry, { graceMs: HOUR, now: () => t0 + 4 * HOUR, dryRun: true });
      assert.deepEqual(later.removed.blobs, []);
      assert.equal((await meta.db.selectFrom('berth_gc_orphan').selectAll().execute()).length, 1);
      assert.ok(await hasBlob(registry, loose.digest));
    } finally {
      await meta.close();
    }
  });

  it('reports what the database does not know, removes it only past the grace, and reports rows without storage', async () => {
    const meta = await backend.open();
    try {
      const { registry, driver } = setup(meta);
      const config = blob('{"os":"linux"}');
      const layer = blob('pushed layer');
      const pushed = imageManifest(config, [layer]);
      await putImage(registry, 'team/app', config, [layer], pushed, 'v1');
      // Behind the database's back: a loose blob, an untagged revision with its own layer, a link to nothing.
      const loose = blob('planted loose blob');
      const hiddenLayer = blob('planted layer');
      const hidden = imageManifest(config, [hiddenLayer]);
      await plantBlob(driver, loose);
      await plantBlob(driver, hiddenLayer);
      await plantBlob(driver, hidden);
      await driver.putContent(revisionLink('team/app', hidden.digest), hidden.digest);
      await driver.putContent(layerLink('team/app', hiddenLayer.digest), hiddenLayer.digest);
      const ghost = blob('never stored');
      await driver.putContent(layerLink('team/other', ghost.digest), ghost.digest);
      // And the other way round: a tagged image whose revision and layer storage lost.
      const lostLayer = blob('lost layer');
      const lost = imageManifest(config, [lostLayer]);
      await putImage(registry, 'team/lost', config, [lostLayer], lost, 'v1');
      await driver.delete(blobPath(lostLayer.digest).replace(/\/data$/, ''));
      await driver.delete(revisionLink('team/lost', lost.digest).replace(/\/link$/, ''));

      const t0 = Date.now();
      const first = await reconcile(meta, registry, { graceMs: HOUR, now: () => t0 });
      const expected = [
        `blob ${hidden.digest}`, `blob ${hiddenLayer.digest}`, `blob ${loose.digest}`,
        `layer team/lost@${lostLayer.digest}`, `layer team/other@${ghost.digest}`, `manifest team/app@${hidden.digest}`,
      ].sort();
      assert.deepEqual(objects(first), expected);
      assert.deepEqual(first.removed, { blobs: [], manifests: [], layerLinks: [] });
      assert.deepEqual(first.missing.manifests, [{ repository: 'team/lost', digest: lost.digest }]);
      assert.deepEqual(first.missing.blobs, [lostLayer.digest]);
      assert.ok(first.unknown.every((u) => u.removableAt === new Date(t0 + HOUR).toISOString()));

      // Within the grace a later run still only reports; the first sighting is what counts.
      const second = await reconcile(meta, registry, { graceMs: HOUR, now: () => t0 + HOUR / 2 });
      assert.deepEqual(objects(second), expected);
      assert.deepEqual(second.removed, { blobs: [], manifests: [], layerLinks: [] });
      for (const b of [loose, hiddenLayer]) assert.equal(await hasBlob(registry, b.digest), true);

      const third = await reconcile(meta, registry, { graceMs: HOUR, now: () => t0 + HOUR + 1 });
      assert.deepEqual(third.unknown, []);
      assert.deepEqual(third.removed.manifests, [{ repository: 'team/app', digest: hidden.digest }]);
      assert.deepEqual(third.removed.blobs.map((b) => b.digest), [hidden.digest, hiddenLayer.digest, loose.digest].sort());
      assert.deepEqual(third.removed.layerLinks.map((l) => `${l.repository} ${l.digest}`).sort(),
        [`team/app ${hiddenLayer.digest}`, `team/lost ${lostLayer.digest}`, `team/other ${ghost.digest}`].sort());
      for (const b of [loose, hiddenLayer, hidden]) assert.equal(await hasBlob(registry, b.digest), false);
      assert.equal(await driver.stat(layerLink('team/other', ghost.digest)).then(() => true, () => false), false);
      // The pushed image is whole, and a run now finds only the lost rows.
      assert.equal((await registry.manifests.get('team/app', { tag: 'v1' })).digest.value, pushed.digest);
      for (const b of [config, layer]) assert.equal(await hasBlob(registry, b.digest), true);
      const fourth = await reconcile(meta, registry, { graceMs: HOUR, now: () => t0 + 2 * HOUR });
      assert.deepEqual([fourth.unknown, fourth.removed.blobs, fourth.removed.manifests], [[], [], []]);
      assert.equal(fourth.missing.manifests.length + fourth.missing.blobs.length, 2);
    } finally {
      await meta.close();
    }
  });

  it('re-reads a repository whose tagged revision the database lacks, and keeps it', async () => {
    const meta = await backend.open();
    try {
      const { registry, driver } = setup(meta);
      const config = blob('{"os":"linux"}');
      const layer = blob('tagged behind the back');
      const m = imageManifest(config, [layer]);
      for (const b of [config, layer, m]) await plantBlob(driver, b);
      await driver.putContent(revisionLink('team/side', m.digest), m.digest);
      await driver.putContent(`${V2}/repositories/team/side/_manifests/tags/v1/current/link`, m.digest);
      const r = await reconcile(meta, registry, { graceMs: 0, now: () => Date.now() + HOUR });
      assert.deepEqual(r.imported, ['team/side']);
      assert.deepEqual([r.removed.manifests, r.removed.blobs], [[], []]);
      assert.deepEqual(await registry.tags.list('team/side'), ['v1']);
      for (const b of [config, layer, m]) assert.equal(await hasBlob(registry, b.digest), true);
      const again = await reconcile(meta, registry, { graceMs: 0, now: () => Date.now() + HOUR });
      assert.deepEqual([again.unknown, again.imported, again.removed.blobs], [[], [], []]);
    } finally {
      await meta.close();
    }
  });

  it('the review deletes a blob with the layer links of the repositories that released it', async () => {
    const meta = await backend.open();
    try {
      const { registry, driver } = setup(meta);
      const config = blob('{"os":"linux"}');
      const layer = blob('released twice');
      const a = imageManifest(config, [layer], { annotations: { n: 'a' } });
      const b = imageManifest(config, [layer], { annotations: { n: 'b' } });
      await putImage(registry, 'team/a', config, [layer], a, 'v1');
      await putImage(registry, 'team/b', config, [layer], b, 'v1');
      await registry.manifests.delete('team/a', { digest: d(a.digest) });
      await registry.manifests.delete('team/b', { digest: d(b.digest) });
      const r = await reviewOnce(meta, registry, { graceMs: HOUR, untagged: 'delete', now: () => Date.now() + 2 * HOUR });
      assert.ok(r.blobs.includes(layer.digest) && r.blobs.includes(config.digest));
      for (const repo of ['team/a', 'team/b']) {
        for (const x of [layer, config]) assert.equal(await driver.stat(layerLink(repo, x.digest)).then(() => true, () => false), false, `${repo} link to ${x.digest}`);
      }
      const check = await reconcile(meta, registry, { graceMs: 0 });
      assert.deepEqual([check.unknown, check.removed.layerLinks, check.removed.blobs, check.missing], [[], [], [], { manifests: [], blobs: [] }]);
    } finally {
      await meta.close();
    }
  });
});

describe('berth gc --reconcile beside a running berth serve', () => {
  let dir: string | undefined;
  let berth: BerthProcess;
  let config: string;
  let root: string;
  before(async () => {
    dir = await tempDir('gc-reconcile');
    root = join(dir, 'data');
    berth = await startBerth({ root });
    config = join(dir, 'config.yml');
    await writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(root)}\n`);
  });
  after(async () => {
    await berth.stop();
    await removeDir(dir);
  });

  it('reports a planted blob, keeps it within the grace, then removes it; pushed images stay', async () => {
    const cfg = blob('{"reconcile":1}');
    const layer = randomBlob(3000);
    await pushImage(berth.url, 'team/app', 'v1', cfg, [layer], imageManifest(cfg, [layer]));
    const planted = randomBlob(2000);
    const file = join(root, blobPath(planted.digest));
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, planted.data);

    const waiting = await runBerth(['gc', '--reconcile', '-c', config, '--grace', '1h']);
    assert.equal(waiting.code, 0, waiting.stderr);
    assert.match(waiting.stdout, new RegExp(`unknown to the database since .*, removable from .*: blob ${planted.digest}`));
    await access(file);
    const json = await runBerth(['gc', '--reconcile', '-c', config, '--grace', '0s', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as ReconcileReport;
    assert.deepEqual(report.removed.blobs, [{ digest: planted.digest, size: 2000 }]);
    assert.deepEqual(report.missing, { manifests: [], blobs: [] });
    await assert.rejects(access(file));
    const pull = await fetch(`${berth.url}/v2/team/app/blobs/${layer.digest}`);
    assert.equal(pull.status, 200);
    assert.deepEqual(Buffer.from(await pull.arrayBuffer()), layer.data);
  });
});
