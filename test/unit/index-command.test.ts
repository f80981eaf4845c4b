// `berth index verify` and `berth index rebuild` on a filesystem registry written behind Berth's
// back (as registry:2 would): exit codes, the drift lines, and the plain refusal when disabled.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../src/registry/registry.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { putImage, putManifest } from '../support/seed.js';
import { runBerth } from '../support/cli.js';

it('verify reports drift and exits 1, rebuild repairs it, verify then exits 0; disabled, both refuse', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-index-cli-'));
  try {
    const env = { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root, REGISTRY_LOG_LEVEL: 'error' };
    assert.equal((await runBerth(['index', 'rebuild'], env)).code, 0, 'an empty index over empty storage');
    const behind = new Registry(new FilesystemDriver(root));
    const config = blob('{}');
    const layer = blob('cli layer');
    const img = imageManifest(config, [layer]);
    await putImage(behind, 'team/app', config, [layer], img, 'v1');
    await putManifest(behind, 'team/app', img, 'v2');
    const drift = await runBerth(['index', 'verify'], env);
    assert.equal(drift.code, 1, drift.stderr);
    assert.equal(drift.stdout, 'team/app: repository in storage, missing from the index\n'
      + '1 difference between the listing index and storage; `berth index rebuild` repairs them\n');
    const rebuild = await runBerth(['index', 'rebuild'], env);
    assert.equal(rebuild.code, 0, rebuild.stderr);
    assert.match(rebuild.stdout, /^listing index rebuilt from storage: 1 repository in \d+\.\d s\n$/);
    await behind.manifests.delete('team/app', { tag: 'v2' });
    const tagDrift = await runBerth(['index', 'verify'], env);
    assert.equal(tagDrift.code, 1);
    assert.match(tagDrift.stdout, new RegExp(`^team/app:v2: storage \\(none\\), index ${img.digest}$`, 'm'));
    assert.equal((await runBerth(['index', 'rebuild'], env)).code, 0);
    const clean = await runBerth(['index', 'verify'], env);
    assert.equal(clean.code, 0, clean.stdout);
    assert.equal(clean.stdout, 'listing index matches storage\n');
    const off = await runBerth(['index', 'verify'], { ...env, REGISTRY_META_INDEX_ENABLED: 'false' });
    assert.equal(off.code, 2);
    assert.match(off.stderr, /the listing index is disabled \(meta\.index\.enabled: false\)/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
