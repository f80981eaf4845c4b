// Tag restore (gc.tagrestore): on SQLite and a real PostgreSQL, a deleted or moved tag is
// restorable within the window and its manifest is not collected meanwhile (its review comes back
// when the window ends, and collects it then); and on a real `berth serve` whose review worker
// runs every few hundred milliseconds, a tag deleted over the API is listed by `berth tag
// deleted`, put back by `berth tag restore` (and the admin API's twin is covered by the same
// function), and skopeo pulls the restored tag byte for byte.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { MetaListingIndex } from '../../src/meta/listing-index.js';
import type { MetaDatabase } from '../../src/meta/database.js';
import { reviewOnce, type ReviewOptions } from '../../src/gc/review-worker.js';
import { restorableTags, restoreTag, TagRestoreError } from '../../src/gc/tag-restore.js';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { d, putImage, putManifest } from '../support/seed.js';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { copy, inspectRaw } from '../e2e/support/skopeo.js';
import { pushImage } from '../support/push.js';
import { berthOk, runBerth } from '../support/cli.js';
import { PASSWORD, basic, seed, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { push } from '../api/read-support.js';

const quiet = { info: () => {}, warn: () => {} };
const HOUR = 3_600_000;
const WINDOW = 24 * HOUR;

forEachMetaDatabase('tag restore', (backend) => {
  const options: ReviewOptions = { graceMs: HOUR, untagged: 'delete', tagRestoreMs: WINDOW };

  it('keeps the manifest of a restorable tag, restores it, and collects it once the window is over', async () => {
    const meta: MetaDatabase = await backend.open();
    try {
      const driver = new MemoryDriver();
      const registry = new Registry(driver, { index: new MetaListingIndex(meta, new StorageListing(driver), { log: quiet }) });
      const config = blob('{"os":"linux"}');
      const layer = blob('restorable layer');
      const m = imageManifest(config, [layer]);
      await putImage(registry, 'team/app', config, [layer], m, 'v1');
      await registry.manifests.delete('team/app', { tag: 'v1' });
      const t0 = Date.now();
      // Past the review grace, inside the restore window: kept, and its review deferred to the window's end.
      const kept = await reviewOnce(meta, registry, { ...options, now: () => t0 + 2 * HOUR });
      assert.deepEqual([kept.manifests, kept.kept], [[], 1]);
      assert.equal((await registry.manifests.get('team/app', { digest: d(m.digest) })).digest.value, m.digest);
      assert.deepEqual((await reviewOnce(meta, registry, { ...options, now: () => t0 + 3 * HOUR })).reviewed, 0, 'the deferred row is not due before the window ends');
      const listed = await restorableTags(meta, WINDOW, { repository: 'team/app' }, t0 + 2 * HOUR);
      assert.deepEqual(listed.map((r) => [r.tag, r.digest, r.reason]), [['v1', m.digest, 'untag']]);

      const restored = await restoreTag(meta, registry, 'team/app', 'v1', { windowMs: WINDOW, now: () => t0 + 2 * HOUR });
      assert.equal(restored.digest, m.digest);
      assert.equal((await registry.manifests.get('team/app', { tag: 'v1' })).digest.value, m.digest);
      // The deferred review comes due and finds it tagged.
      const after = await reviewOnce(meta, registry, { ...options, now: () => t0 + WINDOW + 2 * HOUR });
      assert.deepEqual(after.manifests, []);

      // A moved tag is restorable too, to the manifest it named before.
      const other = imageManifest(config, [layer], { annotations: { v: '2' } });
      await putManifest(registry, 'team/app', other, 'v1');
      await restoreTag(meta, registry, 'team/app', 'v1', { windowMs: WINDOW, digest: m.digest });
      assert.equal((await registry.manifests.get('team/app', { tag: 'v1' })).digest.value, m.digest);

      // Deleted again and left alone: collected after the window, and then nothing is left to restore.
      await registry.manifests.delete('team/app', { tag: 'v1' });
      const t1 = Date.now();
      await reviewOnce(meta, registry, { ...options, now: () => t1 + 2 * HOUR });
      const gone = await reviewOnce(meta, registry, { ...options, now: () => t1 + WINDOW + 2 * HOUR });
      assert.deepEqual(gone.manifests.map((x) => x.digest).sort(), [m.digest, other.digest].sort());
      await assert.rejects(restoreTag(meta, registry, 'team/app', 'v1', { windowMs: WINDOW, now: () => t1 + 2 * HOUR }), TagRestoreError);
      await assert.rejects(restoreTag(meta, registry, 'team/app', 'v1', { windowMs: WINDOW, now: () => t1 + WINDOW + 3 * HOUR }),
        /no deleted tag team\/app:v1 is restorable/);
    } finally {
      await meta.close();
    }
  });
});

describe('berth tag restore on a serving registry, pulled with skopeo', () => {
  const gate = requireClients('skopeo');
  let dir: string | undefined;
  let berth: BerthProcess;
  let config: string;
  let images: LabImages;
  let root: string;
  before(async () => {
    if (gate.skip) return;
    gate.assertPresent();
    images = await sharedLabImages();
    dir = await tempDir('tag-restore');
    root = join(dir, 'data');
    const gc = { REGISTRY_GC_UNTAGGED: 'delete', REGISTRY_GC_REVIEW_GRACE: '0s', REGISTRY_GC_REVIEW_INTERVAL: '200ms', REGISTRY_GC_TAGRESTORE: '1h' };
    berth = await startBerth({ root, env: gc });
    config = join(dir, 'config.yml');
    await writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(root)}\ngc:\n  tagrestore: 1h\n`);
  });
  after(async () => {
    await berth?.stop();
    await removeDir(dir);
  });

  it('a tag deleted over the API survives the review worker, is restored by the CLI and pulls', { skip: gate.skip }, async () => {
    const ref = `docker://${berth.host}/team/app:v1`;
    await copy(images.oci('tiny'), ref);
    const pushed = await inspectRaw(ref);
    const del = await fetch(`${berth.url}/v2/team/app/manifests/v1`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    // A control deleted after it: once the worker has collected the control's layer, it has reviewed team/app too.
    const cfg = blob('{"control":1}');
    const layer = randomBlob(800);
    const control = imageManifest(cfg, [layer]);
    await pushImage(berth.url, 'team/ctl', 'v1', cfg, [layer], control);
    assert.equal((await fetch(`${berth.url}/v2/team/ctl/manifests/${control.digest}`, { method: 'DELETE' })).status, 202);
    const layerFile = join(root, 'docker/registry/v2/blobs/sha256', layer.digest.slice(7, 9), layer.digest.slice(7), 'data');
    for (let i = 0; ; i++) {
      if (await access(layerFile).then(() => false, () => true)) break;
      assert.ok(i < 600, `the review worker never collected the control layer\n${berth.logs()}`);
      await sleep(100);
    }
    assert.equal((await fetch(`${berth.url}/v2/team/app/manifests/v1`)).status, 404);

    const listed = await berthOk(['tag', 'deleted', 'team/app', '-c', config]);
    assert.match(listed.stdout, /^team\/app:v1\tsha256:[0-9a-f]{64}\tdeleted .*\trestorable until /m);
    const restored = await berthOk(['tag', 'restore', 'team/app', 'v1', '-c', config]);
    assert.match(restored.stdout, /^restored team\/app:v1 -> sha256:/);
    const again = await runBerth(['tag', 'restore', 'team/app', 'nope', '-c', config]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no deleted tag team\/app:nope is restorable/);

    assert.deepEqual(await inspectRaw(ref), pushed);
    const out = join(dir!, 'pulled');
    await copy(ref, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, images.digest('tiny'));
  });
});

describe('the admin API lists and restores deleted tags', () => {
  let reg: AuthRegistry;
  const root = basic('root', PASSWORD);
  const config = blob('{"admin":"restore"}');
  const layer = blob('admin restore layer');
  const m = imageManifest(config, [layer]);
  before(async () => {
    reg = await startAuthRegistry('basic');
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    assert.equal(await push(reg.url, 'team/app', 'v1', m, [config, layer], root), 201);
  });
  after(async () => reg?.close());

  const call = (method: string, path: string, who: string, body?: unknown) => fetch(`${reg.url}/api/v1${path}`, {
    method, headers: { Authorization: who, ...(body ? { 'Content-Type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
  });

  it('lists the deleted tag, restores it for an administrator only, and says why when there is nothing to restore', async () => {
    assert.equal((await fetch(`${reg.url}/v2/team/app/manifests/v1`, { method: 'DELETE', headers: { Authorization: root } })).status, 202);
    const listed = await call('GET', '/tags/deleted?repository=team/app', root);
    assert.equal(listed.status, 200);
    const rows = await listed.json() as { repository: string; tag: string; digest: string; reason: string }[];
    assert.deepEqual(rows.map((r) => [r.repository, r.tag, r.digest, r.reason]), [['team/app', 'v1', m.digest, 'untag']]);
    assert.equal((await call('POST', '/tags/restore', basic('bob', PASSWORD), { repository: 'team/app', tag: 'v1' })).status, 403);
    const restored = await call('POST', '/tags/restore', root, { repository: 'team/app', tag: 'v1' });
    assert.equal(restored.status, 200, await restored.clone().text());
    assert.deepEqual(await restored.json(), { repository: 'team/app', tag: 'v1', digest: m.digest });
    const pulled = await fetch(`${reg.url}/v2/team/app/manifests/v1`, { headers: { Authorization: root, Accept: m.mediaType } });
    assert.equal(pulled.status, 200);
    assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), m.body);
    const missing = await call('POST', '/tags/restore', root, { repository: 'team/app', tag: 'nope' });
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /no deleted tag team\/app:nope is restorable/);
  });
});
