// `berth sync`: whole repositories or a skopeo-style YAML list, mirrored from Berth to Debian's
// docker-registry and back, copying only tags whose digest changed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { startDistribution, type DistributionProcess } from '../e2e/support/distribution-process.js';
import { buildLabImages, type LabImages } from '../e2e/support/images.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { inspectRaw, sha256Of } from '../e2e/support/skopeo.js';
import { parseSyncFile } from '../../src/cli/sync-command.js';
import { berthJson, berthOk, runBerth } from '../support/cli.js';

const gate = requireClients('skopeo', 'docker-registry');

interface SyncJson { images: Array<{ source: string; destination: string; digest: string; status: string }> }
const count = (r: SyncJson, status: string) => r.images.filter((i) => i.status === status).length;

describe('berth sync', { skip: gate.skip }, () => {
  let work: string;
  let images: LabImages;
  let a: TestRegistry;
  let b: TestRegistry;
  let dist: DistributionProcess;
  let file: string;

  before(async () => {
    gate.assertPresent();
    work = await tempDir('tools-sync');
    images = await buildLabImages(join(work, 'images'));
    a = await startTestRegistry();
    b = await startTestRegistry();
    dist = await startDistribution({ root: join(work, 'dist'), configDir: work });
    await berthOk(['copy', '-q', images.oci('tiny'), `docker://${a.host}/lab/tiny:v1`]);
    for (const tag of ['v1', 'v2', 'dev']) await berthOk(['copy', '-q', '--all', images.oci('multiarch'), `docker://${a.host}/lab/multiarch:${tag}`]);
    file = join(work, 'sync.yml');
    await writeFile(file, [
      `${a.host}:`,
      '  images:',
      '    lab/tiny: [v1]',
      '  images-by-tag-regex:',
      "    lab/multiarch: '^v[0-9]+$'",
      '',
    ].join('\n'));
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dist?.stop();
    await removeDir(work);
  });

  it('mirrors the listed images into docker-registry under a prefix, digests identical', async () => {
    const r = await berthJson<SyncJson>(['sync', file, `docker://${dist.host}/mirror`]);
    assert.deepEqual(r.images.map((i) => i.destination).sort(), [
      `docker://${dist.host}/mirror/lab/multiarch:v1`, `docker://${dist.host}/mirror/lab/multiarch:v2`, `docker://${dist.host}/mirror/lab/tiny:v1`,
    ]);
    assert.equal(count(r, 'copied'), 3);
    assert.equal(sha256Of(await inspectRaw(`docker://${dist.host}/mirror/lab/multiarch:v2`)), images.digest('multiarch'));
    assert.equal(sha256Of(await inspectRaw(`docker://${dist.host}/mirror/lab/tiny:v1`)), images.digest('tiny'));
  });

  it('copies nothing on a second run, and only the changed tag after a push', async () => {
    const again = await berthJson<SyncJson>(['sync', file, `docker://${dist.host}/mirror`]);
    assert.equal(count(again, 'unchanged'), 3);
    assert.equal(count(again, 'copied'), 0);
    await berthOk(['copy', '-q', images.oci('tiny'), `docker://${a.host}/lab/multiarch:v2`]);
    const changed = await berthJson<SyncJson>(['sync', file, `docker://${dist.host}/mirror`]);
    assert.deepEqual(changed.images.filter((i) => i.status === 'copied').map((i) => i.destination), [`docker://${dist.host}/mirror/lab/multiarch:v2`]);
    assert.equal(sha256Of(await inspectRaw(`docker://${dist.host}/mirror/lab/multiarch:v2`)), images.digest('tiny'));
  });

  it('syncs a whole repository from docker-registry back into Berth, filtered by a tag regex', async () => {
    const r = await berthJson<SyncJson>(['sync', '--tag-regex', '^v1$', `docker://${dist.host}/mirror/lab/multiarch`, `docker://${b.host}`]);
    assert.deepEqual(r.images.map((i) => [i.destination, i.status]), [[`docker://${b.host}/mirror/lab/multiarch:v1`, 'copied']]);
    assert.equal(sha256Of(await inspectRaw(`docker://${b.host}/mirror/lab/multiarch:v1`)), images.digest('multiarch'));
  });

  it('lists without copying on --dry-run', async () => {
    const r = await berthJson<SyncJson>(['sync', '--dry-run', `docker://${a.host}/lab/multiarch`, `docker://${b.host}/dry`]);
    assert.equal(count(r, 'would copy'), 3);
    const c = await runBerth(['sync', `docker://${b.host}/dry/lab/multiarch`, `docker://${a.host}/x`]);
    assert.equal(c.code, 1, 'nothing was copied, so the source repository does not exist');
    assert.match(c.stderr, /404 NAME_UNKNOWN/);
  });

  it('rejects a sync file with an unknown key or a bad repository name', () => {
    assert.throws(() => parseSyncFile('r.example:\n  imagez: {}\n'), /unknown key\(s\) imagez/);
    assert.throws(() => parseSyncFile('r.example:\n  images: { "Bad/Name": [] }\n'), /invalid repository name/);
  });
});
