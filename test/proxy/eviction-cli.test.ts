// `berth proxy evict` as an operator runs it: the real binary over a filesystem registry and
// its SQLite bookkeeping, dry run first, then for real.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { openMetaDatabase } from '../../src/meta/database.js';
import { Registry } from '../../src/registry/registry.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { putImage } from '../support/seed.js';
import { runBerth } from '../support/cli.js';

describe('berth proxy evict', () => {
  let dir: string | undefined;
  let config: string;
  let registry: Registry;
  const old = { config: blob('{"cli":"old"}'), layer: randomBlob(4096) };
  const fresh = { config: blob('{"cli":"fresh"}'), layer: randomBlob(1024) };
  const oldManifest = imageManifest(old.config, [old.layer]);
  const freshManifest = imageManifest(fresh.config, [fresh.layer]);

  before(async () => {
    dir = await tempDir('proxy-evict');
    const root = join(dir, 'data');
    registry = new Registry(new FilesystemDriver(root));
    await putImage(registry, 'dockerhub/library/old', old.config, [old.layer], oldManifest, 'latest');
    await putImage(registry, 'dockerhub/library/fresh', fresh.config, [fresh.layer], freshManifest, 'latest');
    const meta = await openMetaDatabase({ sqlite: { path: join(root, 'berth', 'meta.sqlite') } });
    const now = Date.now();
    const rows = (repository: string, pulled: number, items: { digest: string; size: number; kind: 'manifest' | 'blob' }[]) =>
      items.map((i) => ({ upstream: 'dockerhub', repository, ...i, fetched_at: pulled, last_pulled_at: pulled }));
    await meta.db.insertInto('proxy_cache_entries').values([
      ...rows('dockerhub/library/old', now - 3_600_000, [
        { digest: oldManifest.digest, size: oldManifest.body.length, kind: 'manifest' },
        ...[old.config, old.layer].map((b) => ({ digest: b.digest, size: b.size, kind: 'blob' as const })),
      ]),
      ...rows('dockerhub/library/fresh', now, [
        { digest: freshManifest.digest, size: freshManifest.body.length, kind: 'manifest' },
        ...[fresh.config, fresh.layer].map((b) => ({ digest: b.digest, size: b.size, kind: 'blob' as const })),
      ]),
    ]).execute();
    await meta.close();
    config = join(dir, 'config.yml');
    await writeFile(config, [
      'version: 0.1',
      `storage: {filesystem: {rootdirectory: ${JSON.stringify(root)}}}`,
      'proxy:',
      '  upstreams:',
      '    - name: dockerhub',
      '      remoteurl: http://127.0.0.1:9',
      '      maxsize: 2KiB',
      '',
    ].join('\n'));
    // The listing index names both images, as a serving registry's would.
    const rebuilt = await runBerth(['index', 'rebuild', config]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
  });
  after(() => removeDir(dir));

  it('prints what it would evict with --dry-run and changes nothing', async () => {
    const r = await runBerth(['proxy', 'evict', '--dry-run', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^dockerhub: \d+ bytes cached, would evict 1 image\(s\)/m);
    assert.match(r.stdout, new RegExp(`would evict dockerhub/library/old@${oldManifest.digest} \\(maxsize, \\d+ bytes\\)`));
    assert.equal((await registry.manifests.get('dockerhub/library/old', { tag: 'latest' })).digest.value, oldManifest.digest);
  });

  it('evicts the least recently pulled image and says the space comes back at the next gc', async () => {
    const r = await runBerth(['proxy', 'evict', '--config', config, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { upstreams: { evicted: { repository: string }[]; bytesAfter: number }[] };
    assert.deepEqual(report.upstreams[0]?.evicted.map((e) => e.repository), ['dockerhub/library/old']);
    assert.ok((report.upstreams[0]?.bytesAfter ?? Infinity) <= 2048);
    await assert.rejects(registry.manifests.get('dockerhub/library/old', { tag: 'latest' }), { code: 'MANIFEST_UNKNOWN' });
    assert.equal((await registry.manifests.get('dockerhub/library/fresh', { tag: 'latest' })).digest.value, freshManifest.digest);
    const again = await runBerth(['proxy', 'evict', config]);
    assert.match(again.stdout, /evicted 0 image\(s\)/);
  });

  it('leaves the listing index naming only what storage still holds', async () => {
    const verify = await runBerth(['index', 'verify', config]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /listing index matches storage/);
  });
});
