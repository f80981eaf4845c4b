// One bucket, two registries: Debian's docker-registry (Distribution 2.8, s3 driver) serves what
// Berth wrote to S3, and Berth serves what Distribution wrote, both pushed and pulled by skopeo.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { IN_CI, requireClients, tempDir } from '../e2e/support/env.js';
import { buildLabImages, type LabImages } from '../e2e/support/images.js';
import { copy, inspectRaw, sha256Of } from '../e2e/support/skopeo.js';
import { newBucket, radosgw, radosgwSkip, stopRadosgw } from './support/radosgw.js';
import { runBerth } from '../support/cli.js';
import { s3Storage, startBerthS3, startDistributionS3, type Server } from './support/servers.js';

const clients = requireClients('skopeo', 'docker-registry');
const skip = radosgwSkip || clients.skip;

describe('Berth and Distribution 2.8 share an S3 bucket', { skip }, () => {
  let images: LabImages;
  let berth: Server | undefined;
  let distribution: Server | undefined;
  let dir: string;

  before(async () => {
    if (IN_CI) clients.assertPresent();
    dir = await tempDir('s3-interop');
    const gw = await radosgw();
    const bucket = await newBucket(gw);
    images = await buildLabImages(join(dir, 'images'));
    const storage = s3Storage(gw, bucket, '/registry');
    berth = await startBerthS3(dir, () => ({ storage: { s3: storage, delete: { enabled: true } }, meta: { sqlite: { path: join(dir, 'meta.sqlite') } } }));
    distribution = await startDistributionS3(dir, storage);
  });
  after(async () => {
    await berth?.stop();
    await distribution?.stop();
    await stopRadosgw();
  });

  const pullAndCompare = async (from: Server, ref: string, image: string, all = false) => {
    const out = join(dir, `pulled-${image}-${from.host.replace(/\W/g, '_')}`);
    await copy(`docker://${from.host}/${ref}`, `oci:${out}:v1`, { all });
    const manifest = await inspectRaw(`docker://${from.host}/${ref}`);
    assert.equal(sha256Of(manifest), images.digest(image), 'the manifest comes back byte for byte');
    assert.ok((await readdir(join(out, 'blobs', 'sha256'))).length > 1, 'blobs were pulled');
  };

  it('Distribution pulls an image Berth stored (multilayer, 5 x 10 MiB layers)', async () => {
    await copy(images.oci('multilayer'), `docker://${berth!.host}/interop/berth-wrote:v1`);
    await pullAndCompare(distribution!, 'interop/berth-wrote:v1', 'multilayer');
  });

  it('Berth pulls an image and an index Distribution stored', async () => {
    await copy(images.oci('multilayer'), `docker://${distribution!.host}/interop/dist-wrote:v1`);
    await pullAndCompare(berth!, 'interop/dist-wrote:v1', 'multilayer');
    await copy(images.oci('multiarch'), `docker://${distribution!.host}/interop/dist-index:v1`, { all: true });
    await pullAndCompare(berth!, 'interop/dist-index:v1', 'multiarch', true);
  });

  it('lists in both the repositories and tags the other one wrote', async () => {
    // Berth lists from its index, which cannot see Distribution's writes to the shared bucket:
    // `berth index rebuild` re-reads the bucket into the running server's index.
    const config = join(dir, (await readdir(dir)).find((f) => f.startsWith('berth-') && f.endsWith('.yml'))!);
    const rebuild = await runBerth(['index', 'rebuild', '--config', config]);
    assert.equal(rebuild.code, 0, rebuild.stderr);
    for (const server of [berth!, distribution!]) {
      const catalog = await (await fetch(`${server.url}/v2/_catalog`)).json() as { repositories: string[] };
      assert.ok(catalog.repositories.includes('interop/berth-wrote') && catalog.repositories.includes('interop/dist-wrote'),
        `${server.host}: ${catalog.repositories.join(',')}`);
      const tags = await (await fetch(`${server.url}/v2/interop/dist-wrote/tags/list`)).json() as { tags: string[] };
      assert.deepEqual(tags.tags, ['v1']);
    }
  });
});
