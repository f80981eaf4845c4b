// Reference tables and usage counters, on SQLite and on a real PostgreSQL: what the core's
// pushes and deletes write in the listing index's transaction, deduplicated usage per repository
// and project, concurrent pushes and deletes against a full recount from storage, and the import
// of a registry written without the index (its first build) matching what pushes wrote.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { MetaListingIndex } from '../../src/meta/listing-index.js';
import { rebuildListing } from '../../src/meta/listing-sync.js';
import type { MetaDatabase } from '../../src/meta/database.js';
import { MetaUsageReader } from '../../src/meta/usage.js';
import { recountUsage, usageDrift } from '../../src/meta/usage-recount.js';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { artifact, blob, EMPTY_CONFIG, imageManifest, indexManifest } from '../support/oci-fixtures.js';
import { d, putBlob, putImage, putManifest } from '../support/seed.js';

const quiet = { info: () => {}, warn: () => {} };

function setup(meta: MetaDatabase, driver = new MemoryDriver()) {
  const walk = new StorageListing(driver);
  const index = new MetaListingIndex(meta, walk, { log: quiet });
  return { driver, walk, index, registry: new Registry(driver, { index }), usage: new MetaUsageReader(meta) };
}

/** Every reference row, as comparable text. */
async function dump(meta: MetaDatabase) {
  const db = meta.db;
  const manifests = (await db.selectFrom('berth_ref_manifest').select(['repository', 'digest', 'size', 'subject']).orderBy('repository').orderBy('digest').execute())
    .map((r) => `${r.repository}@${r.digest} ${Number(r.size)} ${r.subject ?? '-'}`);
  const blobs = (await db.selectFrom('berth_ref_manifest_blob').selectAll().orderBy('repository').orderBy('manifest').orderBy('blob').execute())
    .map((r) => `${r.repository}@${r.manifest} -> ${r.blob} ${Number(r.size)}`);
  const children = (await db.selectFrom('berth_ref_child').selectAll().orderBy('repository').orderBy('parent').orderBy('child').execute())
    .map((r) => `${r.repository}@${r.parent} => ${r.child}`);
  const repoBlobs = (await db.selectFrom('berth_usage_repository_blob').selectAll().orderBy('repository').orderBy('blob').execute())
    .map((r) => `${r.repository} ${r.blob} ${Number(r.size)} x${r.refs}`);
  const projectBlobs = (await db.selectFrom('berth_usage_project_blob').selectAll().orderBy('project').orderBy('blob').execute())
    .map((r) => `${r.project} ${r.blob} ${Number(r.size)} x${r.refs}`);
  const repos = (await db.selectFrom('berth_usage_repository').selectAll().orderBy('repository').execute())
    .map((r) => `${r.repository} ${Number(r.bytes)} ${r.manifests}`);
  const projects = (await db.selectFrom('berth_usage_project').selectAll().orderBy('project').execute()).map((r) => `${r.project} ${Number(r.bytes)}`);
  return { manifests, blobs, children, repoBlobs, projectBlobs, repos, projects };
}

async function drift(meta: MetaDatabase, walk: StorageListing, usage: MetaUsageReader): Promise<string[]> {
  const names = await walk.namesHolding('_manifests');
  const repositories = new Map((await usage.repositories()).map((r) => [r.repository, r.totalBytes]));
  return usageDrift({ repositories, projects: await usage.projectTotals() }, await recountUsage(walk, names));
}

forEachMetaDatabase('reference tables and usage', (backend) => {
  const config = blob('{"os":"linux"}');
  const base = blob(Buffer.alloc(5000, 1));
  const top = blob(Buffer.alloc(700, 2));
  const img = imageManifest(config, [base, top]);
  const slim = imageManifest(config, [base]);

  it('records a push with its blobs, children and subject, and counts shared blobs once per project', async () => {
    const meta = await backend.open();
    try {
      const { registry, usage, walk } = setup(meta);
      await putImage(registry, 'team/app', config, [base, top], img, 'v1');
      await putImage(registry, 'team/api', config, [base], slim, 'v1');
      const sbom = blob('{"sbom":true}');
      await putBlob(registry, 'team/app', sbom);
      await putBlob(registry, 'team/app', EMPTY_CONFIG);
      const ref = artifact(img, 'application/vnd.example.sbom', sbom);
      await putManifest(registry, 'team/app', ref);
      const list = indexManifest([img]);
      await putManifest(registry, 'team/app', list, 'multi');
      const rows = await dump(meta);
      assert.ok(rows.manifests.includes(`team/app@${ref.digest} ${ref.body.length} ${img.digest}`));
      assert.ok(rows.blobs.includes(`team/app@${img.digest} -> ${top.digest} ${top.size}`));
      assert.ok(rows.blobs.includes(`team/app@${img.digest} -> ${img.digest} ${img.body.length}`), 'a manifest holds its own bytes');
      assert.deepEqual(rows.children, [`team/app@${list.digest} => ${img.digest}`]);
      const app = config.size + base.size + top.size + img.body.length + sbom.size + EMPTY_CONFIG.size + ref.body.length + list.body.length;
      const api = config.size + base.size + slim.body.length;
      const project = app + slim.body.length;
      assert.deepEqual((await usage.repository('team/app'))?.totalBytes, app);
      assert.deepEqual(await usage.repository('team/api'), {
        repository: 'team/api', project: 'team', manifests: 1, totalBytes: api, uniqueBytes: slim.body.length, sharedBytes: api - slim.body.length,
      });
      const team = await usage.project('team');
      assert.deepEqual(team, { project: 'team', repositories: 2, totalBytes: project, uniqueBytes: project, sharedBytes: 0 });
      assert.equal(await usage.newBytes('team', [{ digest: base.digest, size: base.size }, { digest: 'sha256:' + 'f'.repeat(64), size: 42 }]), 42);
      assert.deepEqual(await drift(meta, walk, usage), []);
      // Pushing the same manifest again changes nothing.
      await putManifest(registry, 'team/api', slim, 'v2');
      assert.deepEqual(await dump(meta), { ...rows, repos: rows.repos });
    } finally {
      await meta.close();
    }
  });

  it('a delete removes the revision and its bytes, and a blob still held elsewhere stays counted', async () => {
    const meta = await backend.open();
    try {
      const { registry, usage, walk } = setup(meta);
      await putImage(registry, 'team/app', config, [base, top], img, 'v1');
      await putImage(registry, 'team/api', config, [base], slim, 'v1');
      await putImage(registry, 'other/x', config, [base], slim, 'v1');
      await registry.manifests.delete('team/app', { digest: d(img.digest) });
      assert.equal(await usage.repository('team/app'), undefined);
      assert.equal((await usage.project('team'))?.totalBytes, config.size + base.size + slim.body.length);
      // Shared with another project: nothing of team/api is unique to the project.
      assert.equal((await usage.project('team'))?.uniqueBytes, 0);
      assert.deepEqual((await dump(meta)).manifests.filter((m) => m.startsWith('team/app')), []);
      assert.deepEqual(await drift(meta, walk, usage), []);
      await registry.manifests.delete('team/api', { digest: d(slim.digest) });
      assert.equal(await usage.project('team'), undefined);
      assert.deepEqual((await usage.projects()).map((p) => p.project), ['other']);
    } finally {
      await meta.close();
    }
  });

  it('stays exact under concurrent pushes and deletes sharing layers (checked against a recount from storage)', async () => {
    const meta = await backend.open();
    try {
      const { registry, usage, walk } = setup(meta);
      const shared = [blob(Buffer.alloc(3000, 7)), blob(Buffer.alloc(2000, 8))];
      const images = Array.from({ length: 24 }, (_, i) => {
        const own = blob(`layer ${i}`);
        return { own, m: imageManifest(config, [shared[i % 2]!, own]), repo: `proj/r${i % 5}` };
      });
      for (const b of [config, ...shared]) for (let r = 0; r < 5; r++) await putBlob(registry, `proj/r${r}`, b);
      await Promise.all(images.map(async ({ own, m, repo }, i) => {
        await putBlob(registry, repo, own);
        await putManifest(registry, repo, m, `t${i}`);
        if (i % 3 === 0) await registry.manifests.delete(repo, { digest: d(m.digest) });
      }));
      assert.deepEqual(await drift(meta, walk, usage), []);
      const recount = await recountUsage(walk, await walk.namesHolding('_manifests'));
      assert.ok((recount.projects.get('proj') ?? 0) > 5000);
    } finally {
      await meta.close();
    }
  });

  it('the first build of a registry written without the index imports the same references pushes write', async () => {
    const pushed = await backend.open();
    const imported = await backend.open();
    try {
      const driver = new MemoryDriver();
      const { registry } = setup(pushed, driver);
      await putImage(registry, 'team/app', config, [base, top], img, 'v1');
      await putImage(registry, 'team/api', config, [base], slim, 'v1');
      await putManifest(registry, 'team/app', indexManifest([img]), 'multi');
      await registry.manifests.delete('team/api', { digest: d(slim.digest) });
      await putManifest(registry, 'team/api', imageManifest(config, [base], { annotations: { a: 'b' } }), 'v2');
      const other = setup(imported, driver);
      await rebuildListing(imported, other.index, other.walk, quiet);
      assert.deepEqual(await dump(imported), await dump(pushed));
      assert.deepEqual(await drift(imported, other.walk, other.usage), []);
    } finally {
      await pushed.close();
      await imported.close();
    }
  });

  it('reads many repositories of one project at once, each with manifests sharing layers, without a deadlock', async () => {
    // Each repository holds several manifests whose layers are shared across the project in
    // different orders: read in parallel, their transactions meet on the project's rows.
    const layers = Array.from({ length: 6 }, (_, i) => blob(Buffer.alloc(300 + i, 10 + i)));
    const driver = new MemoryDriver();
    const writer = await backend.open();
    const built = await backend.open();
    try {
      const { registry } = setup(writer, driver);
      for (let r = 0; r < 8; r++) {
        for (let m = 0; m < 4; m++) {
          const picked = [layers[(r + m) % 6]!, layers[(r * 5 + m * 3 + 1) % 6]!].filter((l, i, all) => all.indexOf(l) === i);
          const own = blob(`own ${r}.${m}`);
          await putImage(registry, `team/r${r}`, config, [own, ...picked], imageManifest(config, [own, ...picked]), `t${m}`);
        }
      }
      for (let round = 0; round < 3; round++) {
        await built.db.deleteFrom('berth_ref_manifest').execute();
        await built.db.deleteFrom('berth_ref_manifest_blob').execute();
        await built.db.deleteFrom('berth_usage_repository_blob').execute();
        await built.db.deleteFrom('berth_usage_project_blob').execute();
        await built.db.deleteFrom('berth_usage_repository').execute();
        await built.db.deleteFrom('berth_usage_project').execute();
        const other = setup(built, driver);
        await rebuildListing(built, other.index, other.walk, quiet);
        assert.deepEqual(await drift(built, other.walk, other.usage), [], `round ${round}`);
      }
    } finally {
      await writer.close();
      await built.close();
    }
  });
});
