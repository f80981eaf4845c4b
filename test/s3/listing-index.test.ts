// The listing index over a real S3 (radosgw): a workload of pushes, tag and manifest deletes and
// referrers, then Berth's listings (from the index) equal Distribution 2.8's (a walk of the same
// bucket), `berth index verify` finds no drift, a repository written behind Berth's back is
// reported as drift, and `berth index rebuild` brings it into the running server's listings.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { IN_CI, requireClients, tempDir } from '../e2e/support/env.js';
import { artifact, blob, EMPTY_CONFIG, imageManifest } from '../support/oci-fixtures.js';
import { pushBlob, pushImage, pushManifest } from '../support/push.js';
import { runBerth } from '../support/cli.js';
import { newBucket, radosgw, radosgwSkip, stopRadosgw } from './support/radosgw.js';
import { s3Storage, startBerthS3, startDistributionS3, type Server } from './support/servers.js';

const clients = requireClients('docker-registry');
const skip = radosgwSkip || clients.skip;

const config = blob('{"os":"linux"}');
const layer = blob('index workload layer');
const img = imageManifest(config, [layer]);
const other = imageManifest(config, [layer], { annotations: { release: '2' } });
const sbom = blob('{"sbom":"s3"}');
const sig = blob('{"signature":"s3"}');
const REPOS = ['lib/base', 'lib/base/nested', 'solo', 'team/api', 'team/app'];

async function listings(server: Server): Promise<{ catalog: string[]; tags: Record<string, string[]> }> {
  const catalog = (await (await fetch(`${server.url}/v2/_catalog`)).json() as { repositories: string[] }).repositories;
  const tags: Record<string, string[]> = {};
  for (const repo of catalog) tags[repo] = ((await (await fetch(`${server.url}/v2/${repo}/tags/list`)).json() as { tags: string[] | null }).tags ?? []).sort();
  return { catalog, tags };
}

async function del(server: Server, path: string): Promise<void> {
  const res = await fetch(`${server.url}${path}`, { method: 'DELETE' });
  assert.equal(res.status, 202, `DELETE ${path}: ${await res.text()}`);
}

/** POST then PUT: Distribution 2.8 does not take a monolithic POST with a digest. */
async function pushBlobInTwoSteps(base: string, name: string, b: ReturnType<typeof blob>): Promise<void> {
  const post = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  await post.arrayBuffer();
  const location = new URL(post.headers.get('location')!, base);
  location.searchParams.set('digest', b.digest);
  const put = await fetch(location, { method: 'PUT', body: b.data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201, `blob PUT: ${await put.text()}`);
}

describe('listing index on radosgw', { skip }, () => {
  let dir: string;
  let berth: Server | undefined;
  let distribution: Server | undefined;
  let berthConfig: string;

  before(async () => {
    if (IN_CI) clients.assertPresent();
    dir = await tempDir('s3-listing');
    const gw = await radosgw();
    const storage = s3Storage(gw, await newBucket(gw), '/registry');
    berth = await startBerthS3(dir, () => ({
      storage: { s3: storage, delete: { enabled: true } }, meta: { sqlite: { path: join(dir, 'meta.sqlite') } },
    }));
    berthConfig = join(dir, (await readdir(dir)).find((f) => f.startsWith('berth-') && f.endsWith('.yml'))!);
    distribution = await startDistributionS3(dir, storage);
  });
  after(async () => {
    await berth?.stop();
    await distribution?.stop();
    await stopRadosgw();
  });

  it('after a workload, Berth lists from its index what Distribution walks in the bucket', async () => {
    const url = berth!.url;
    for (const repo of REPOS) {
      await pushImage(url, repo, 'v1', config, [layer], img);
      await pushManifest(url, repo, 'v2', img);
      await pushManifest(url, repo, 'latest', other);
    }
    for (const b of [EMPTY_CONFIG, sbom, sig]) for (const repo of ['team/app', 'team/api']) await pushBlob(url, repo, b);
    const sbomRef = artifact(img, 'application/vnd.example.sbom', sbom);
    const sigRef = artifact(img, 'application/vnd.example.sig', sig);
    await pushManifest(url, 'team/app', sbomRef.digest, sbomRef);
    await pushManifest(url, 'team/app', sigRef.digest, sigRef);
    await pushManifest(url, 'team/api', sbomRef.digest, sbomRef);
    await del(berth!, '/v2/team/app/manifests/v2');
    await del(berth!, `/v2/lib/base/manifests/${other.digest}`);
    await del(berth!, `/v2/team/api/manifests/${sbomRef.digest}`);
    await del(berth!, `/v2/solo/manifests/${img.digest}`);

    const fromIndex = await listings(berth!);
    assert.deepEqual(fromIndex.catalog, REPOS);
    assert.deepEqual(fromIndex.tags, {
      'lib/base': ['v1', 'v2'], 'lib/base/nested': ['latest', 'v1', 'v2'], solo: ['latest'], 'team/api': ['latest', 'v1', 'v2'], 'team/app': ['latest', 'v1'],
    });
    assert.deepEqual(await listings(distribution!), fromIndex, 'Distribution walking the bucket sees the same');
    const referrers = await (await fetch(`${url}/v2/team/app/referrers/${img.digest}`)).json() as { manifests: { digest: string }[] };
    assert.deepEqual(referrers.manifests.map((m) => m.digest).sort(), [sbomRef.digest, sigRef.digest].sort());
    const none = await (await fetch(`${url}/v2/team/api/referrers/${img.digest}`)).json() as { manifests: unknown[] };
    assert.deepEqual(none.manifests, []);

    const verify = await runBerth(['index', 'verify', '--config', berthConfig]);
    assert.equal(verify.code, 0, `verify:\n${verify.stdout}${verify.stderr}`);
    assert.match(verify.stdout, /listing index matches storage/);
  });

  it('verify reports what another writer added; rebuild brings it into the running server', async () => {
    for (const b of [config, layer]) await pushBlobInTwoSteps(distribution!.url, 'dist/only', b);
    await pushManifest(distribution!.url, 'dist/only', 'v9', img);
    const drift = await runBerth(['index', 'verify', '--config', berthConfig]);
    assert.equal(drift.code, 1, `verify:\n${drift.stdout}${drift.stderr}`);
    assert.match(drift.stdout, /^dist\/only: repository in storage, missing from the index$/m);
    const rebuild = await runBerth(['index', 'rebuild', '--config', berthConfig]);
    assert.equal(rebuild.code, 0, `rebuild:\n${rebuild.stdout}${rebuild.stderr}`);
    assert.match(rebuild.stdout, /rebuilt from storage: 6 repositories/);
    const after = await listings(berth!);
    assert.deepEqual(after.catalog, ['dist/only', ...REPOS]);
    assert.deepEqual(after.tags['dist/only'], ['v9']);
    assert.equal((await runBerth(['index', 'verify', '--config', berthConfig])).code, 0);
  });
});
