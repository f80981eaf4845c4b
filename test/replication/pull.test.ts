// Pull policies on a schedule: from Debian's docker-registry with htpasswd into a project of
// Berth (repositories found through its catalog), and from an upstream that paginates its tag
// lists and catalog and throttles with 429 + Retry-After.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import bcrypt from 'bcryptjs';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { startServerProcess, type ServerProcess } from '../support/processes.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { cleanEnv, freePort, onPath, requireClients, stopChild, tempDir, removeDir } from '../e2e/support/env.js';
import { copy } from '../e2e/support/skopeo.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import { digestAt, eventually, PagingThrottlingProxy, replicationSection, tagsAt } from './support.js';

const gate = requireClients('skopeo', 'docker-registry');
const PASSWORD = 'pull-Secret-7';

async function distributionWithHtpasswd(work: string): Promise<ServerProcess> {
  const htpasswd = join(work, 'htpasswd');
  if (onPath('htpasswd')) execFileSync('htpasswd', ['-B', '-b', '-c', htpasswd, 'puller', PASSWORD], { stdio: 'pipe' });
  else await writeFile(htpasswd, `puller:${bcrypt.hashSync(PASSWORD, 5)}\n`);
  const port = await freePort();
  const config = join(work, 'dist.yml');
  await writeFile(config, [
    'version: 0.1', 'log:', '  level: warn', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:',
    `    rootdirectory: ${JSON.stringify(join(work, 'dist'))}`, 'http:', `  addr: 127.0.0.1:${port}`,
    'auth:', '  htpasswd:', '    realm: dist', `    path: ${JSON.stringify(htpasswd)}`, '',
  ].join('\n'));
  return startServerProcess({ label: 'docker-registry', command: 'docker-registry', args: ['serve', config], env: cleanEnv(), port, readyStatus: 401 });
}

describe('pull policies on a schedule', { skip: gate.skip }, () => {
  let work: string;
  let images: LabImages;
  let dist: ServerProcess;
  let upstream: TestRegistry;
  let paging: PagingThrottlingProxy;
  let local: TestRegistry;

  before(async () => {
    gate.assertPresent();
    work = await tempDir('replication-pull');
    images = await sharedLabImages();
    dist = await distributionWithHtpasswd(work);
    const creds = ['--dest-creds', `puller:${PASSWORD}`];
    await copy(images.oci('multiarch'), `docker://${dist.host}/lab/multiarch:v1`, { all: true, extra: creds });
    await copy(images.oci('tiny'), `docker://${dist.host}/lab/tiny:v1`, { extra: creds });
    await copy(images.oci('tiny'), `docker://${dist.host}/other/tiny:v1`, { extra: creds });
    upstream = await startTestRegistry();
    for (let i = 0; i < 7; i++) {
      const c = blob(`{"page":${i}}`);
      await pushImage(upstream.url, 'big/app', `v${i}`, c, [], imageManifest(c, []));
    }
    paging = await PagingThrottlingProxy.start(upstream.host);
    local = await startTestRegistry({
      configure: (c) => {
        const pull = { direction: 'pull' as const, trigger: { event: false, schedule: '* * * * * *' }, deletes: false, referrers: true, concurrency: 2, enabled: true };
        c.replication = replicationSection({
          endpoints: [
            { name: 'dist', url: dist.url, username: 'puller', password: PASSWORD, insecure: false },
            { name: 'paging', url: paging.url, insecure: false },
          ],
          policies: [
            { ...pull, name: 'from-dist', endpoint: 'dist', repositories: ['lab/*'], destination: 'proj/' },
            { ...pull, name: 'from-paging', endpoint: 'paging', repositories: ['big/*'], destination: '' },
          ],
        });
      },
    });
  });
  after(async () => {
    await local?.close();
    await paging?.close();
    await upstream?.close();
    if (dist) await stopChild(dist.child);
    await removeDir(work);
  });

  it('pulls the repositories its globs cover from docker-registry with htpasswd, digests identical', async () => {
    assert.equal(await eventually('proj/lab/multiarch:v1', () => digestAt(local.url, 'proj/lab/multiarch', 'v1')), images.digest('multiarch'));
    assert.equal(await eventually('proj/lab/tiny:v1', () => digestAt(local.url, 'proj/lab/tiny', 'v1')), images.digest('tiny'));
    assert.equal(await digestAt(local.url, 'proj/other/tiny', 'v1'), undefined);
  });

  it('pulls every tag through paginated lists and 429s with Retry-After', async () => {
    const want = Array.from({ length: 7 }, (_, i) => `v${i}`).sort();
    await eventually('all seven tags', async () => ((await tagsAt(local.url, 'big/app')).join() === want.join() ? true : undefined), 60_000);
    for (const tag of want) assert.equal(await digestAt(local.url, 'big/app', tag), await digestAt(upstream.url, 'big/app', tag));
    assert.ok(paging.throttled > 0, 'the upstream throttled');
    assert.ok(paging.pages > 1, 'the tag list came in pages');
  });

  it('a later scheduled run finds nothing to copy', async () => {
    const store = local.server.replication!.store;
    const done = await eventually('a run that skipped everything', async () => (await store.history({ policy: 'from-dist', state: 'done', limit: 50 })).find((j) => j.images === 0 && j.skipped >= 2));
    assert.equal(done.failed, 0);
  });
});
