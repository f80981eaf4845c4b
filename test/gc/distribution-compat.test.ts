// Compatibility with Debian's `docker-registry garbage-collect` (CNCF Distribution 2.8) on the
// same directory: Berth collects what Distribution would (same blob and manifest lists), and
// after Berth has collected, Distribution finds nothing more to delete: after `berth gc`, and
// after the review workers of a running `berth serve` (gc.review, gc.untagged: delete).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { distributionGarbageCollect, startDistribution, writeDistributionConfig, type DistributionProcess } from '../e2e/support/distribution-process.js';
import { freePort, removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { buildLabImages, layoutBlob, type LabImages } from '../e2e/support/images.js';
import { copy } from '../e2e/support/skopeo.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushBlobTwoStep, pushImageTwoStep } from './support/push.js';
import { berthGc } from './support/cli.js';
import { startTestRegistry } from '../support/registry-server.js';
import { setTimeout as sleep } from 'node:timers/promises';

const gate = requireClients('skopeo', 'docker-registry');

/** Digests Distribution lists as "<kind> eligible for deletion: <digest>" in a dry run. */
function eligible(output: string, kind: 'blob' | 'manifest'): string[] {
  const re = new RegExp(`${kind} eligible for deletion: (sha256:[0-9a-f]{64})`, 'g');
  return [...new Set([...output.matchAll(re)].map((m) => m[1]!))].sort();
}

/**
 * The children of the tagged multi-arch index, with their configs and layers. Distribution 2.8
 * with -m deletes these (the children are untagged themselves: its issue #3178), which breaks
 * the tagged image; Berth keeps them. They are the one expected difference.
 */
async function multiarchChildren(images: LabImages): Promise<Set<string>> {
  const dir = join(images.dir, 'multiarch');
  const index = JSON.parse((await layoutBlob(dir, images.digest('multiarch'))).toString('utf8')) as { manifests: { digest: string }[] };
  const out = new Set<string>();
  for (const child of index.manifests) {
    out.add(child.digest);
    const m = JSON.parse((await layoutBlob(dir, child.digest)).toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [m.config, ...m.layers]) out.add(d.digest);
  }
  return out;
}

const without = (list: string[], drop: Set<string>) => list.filter((d) => !drop.has(d));

it('has the clients it drives installed (skopeo, docker-registry)', { skip: gate.skip }, () => gate.assertPresent());

describe('garbage collection compatible with docker-registry garbage-collect', { skip: gate.skip }, () => {
  let work: string | undefined;
  let images: LabImages;
  before(async () => {
    gate.assertPresent();
    work = await tempDir('gc-compat');
    images = await buildLabImages(join(work, 'images'));
  });
  after(() => removeDir(work));

  /** A directory written by Distribution: images pushed with skopeo, then garbage made. */
  async function writtenByDistribution(label: string): Promise<{ root: string; config: string }> {
    const root = join(work!, `${label}-data`);
    const configDir = join(work!, `${label}-conf`);
    await mkdir(configDir, { recursive: true });
    const dist: DistributionProcess = await startDistribution({ root, configDir });
    try {
      await copy(images.oci('multiarch'), `docker://${dist.host}/compat/multiarch:v1`, { all: true });
      await copy(images.oci('tiny'), `docker://${dist.host}/compat/tiny:v1`);
      await copy(images.oci('tiny'), `docker://${dist.host}/compat/deleted:v1`);
      // An image replaced under its tag (its old manifest is now untagged) ...
      const oldConfig = blob('{"replaced":true}');
      const oldLayer = randomBlob(2048);
      await pushImageTwoStep(dist.url, 'compat/moving', 'latest', oldConfig, [oldLayer], imageManifest(oldConfig, [oldLayer]));
      const newConfig = blob('{"replaced":false}');
      await pushImageTwoStep(dist.url, 'compat/moving', 'latest', newConfig, [], imageManifest(newConfig, []));
      // ... a manifest deleted by digest, and a blob uploaded that no manifest ever named.
      const head = await fetch(`${dist.url}/v2/compat/deleted/manifests/v1`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
      const digest = head.headers.get('docker-content-digest');
      assert.ok(digest, 'digest of compat/deleted:v1');
      assert.equal((await fetch(`${dist.url}/v2/compat/deleted/manifests/${digest}`, { method: 'DELETE' })).status, 202);
      await pushBlobTwoStep(dist.url, 'compat/orphans', randomBlob(4096));
    } finally {
      await dist.stop();
    }
    return { root, config: await writeDistributionConfig({ root, configDir }, await freePort()) };
  }

  it('after the review workers of berth serve collected, Distribution finds nothing, the upload no manifest named included', async () => {
    const root = join(work!, 'review-data');
    const configDir = join(work!, 'review-conf');
    await mkdir(configDir, { recursive: true });
    const berth = await startTestRegistry({
      root, env: {
        REGISTRY_GC_UNTAGGED: 'delete', REGISTRY_GC_REVIEW_GRACE: '0s', REGISTRY_GC_REVIEW_INTERVAL: '100ms', REGISTRY_GC_TAGRESTORE: '0',
        // What a push writes before naming it waits: skopeo uploads every blob before the manifest,
        // and pushes an index's children by digest before the index.
        REGISTRY_GC_REVIEW_UPLOAD: '10s',
      },
    });
    let again = '';
    const keptOnPurpose = await multiarchChildren(images);
    const orphan = randomBlob(4096);
    try {
      // The same garbage as above, made through Berth: a moved tag, a manifest deleted by digest, a blob no manifest names.
      await copy(images.oci('multiarch'), `docker://${berth.host}/compat/multiarch:v1`, { all: true });
      await copy(images.oci('tiny'), `docker://${berth.host}/compat/tiny:v1`);
      await copy(images.oci('tiny'), `docker://${berth.host}/compat/deleted:v1`);
      const oldConfig = blob('{"replaced":true}');
      const oldLayer = randomBlob(2048);
      await pushImageTwoStep(berth.url, 'compat/moving', 'latest', oldConfig, [oldLayer], imageManifest(oldConfig, [oldLayer]));
      const newConfig = blob('{"replaced":false}');
      await pushImageTwoStep(berth.url, 'compat/moving', 'latest', newConfig, [], imageManifest(newConfig, []));
      const head = await fetch(`${berth.url}/v2/compat/deleted/manifests/v1`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
      const digest = head.headers.get('docker-content-digest');
      assert.ok(digest, 'digest of compat/deleted:v1');
      assert.equal((await fetch(`${berth.url}/v2/compat/deleted/manifests/${digest}`, { method: 'DELETE' })).status, 202);
      await pushBlobTwoStep(berth.url, 'compat/orphans', orphan);
      // The workers take what is due every 100 ms: Distribution's dry run is asked until only what is
      // expected is left (read only; the final check below runs with Berth stopped).
      const config = await writeDistributionConfig({ root, configDir }, await freePort());
      const deadline = Date.now() + 30_000;
      const left = async () => {
        const out = await distributionGarbageCollect(config, ['--dry-run', '-m']);
        return [...without(eligible(out, 'blob'), keptOnPurpose), ...without(eligible(out, 'manifest'), keptOnPurpose)];
      };
      while ((await left()).length > 0 && Date.now() < deadline) await sleep(200);
      for (const tag of ['multiarch:v1', 'tiny:v1', 'moving:latest']) {
        assert.equal((await fetch(`${berth.url}/v2/compat/${tag.replace(':', '/manifests/')}`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json' } })).status, 200, tag);
      }
    } finally {
      await berth.close();
    }
    const config = await writeDistributionConfig({ root, configDir }, await freePort());
    again = await distributionGarbageCollect(config, ['--dry-run', '-m']);
    // The upload no manifest named went with its review row (reason upload), like the rest.
    assert.deepEqual(without(eligible(again, 'blob'), keptOnPurpose), [], again);
    assert.deepEqual(without(eligible(again, 'manifest'), keptOnPurpose), [], again);
    const plain = await distributionGarbageCollect(config, ['--dry-run']);
    assert.match(plain, /\b0 blobs and 0 manifests eligible for deletion/, plain);
  });

  for (const untagged of [false, true]) {
    const flag = untagged ? ['--delete-untagged'] : [];
    const distFlag = untagged ? ['-m'] : [];
    it(`collects the same blobs and manifests as Distribution${untagged ? ' with --delete-untagged' : ''}`, async () => {
      const { config } = await writtenByDistribution(untagged ? 'untagged' : 'plain');
      const theirs = await distributionGarbageCollect(config, ['--dry-run', ...distFlag]);
      const ours = await berthGc(config, ['--dry-run', '--grace', '0s', ...flag]);
      const keptOnPurpose = untagged ? await multiarchChildren(images) : new Set<string>();
      const theirBlobs = eligible(theirs, 'blob');
      assert.ok(theirBlobs.length > 0, `Distribution finds garbage to compare:\n${theirs}`);
      const ourBlobs = ours.blobs.map((b) => b.digest).sort();
      assert.deepEqual(ourBlobs, without(theirBlobs, keptOnPurpose), `Distribution said:\n${theirs}`);
      assert.ok(ourBlobs.length > 0 && ourBlobs.every((d) => !keptOnPurpose.has(d)));
      assert.deepEqual([...new Set(ours.manifests.map((m) => m.digest))].sort(), without(eligible(theirs, 'manifest'), keptOnPurpose));
      if (untagged) assert.ok(eligible(theirs, 'manifest').length > ours.manifests.length, 'Distribution would delete the children (its bug)');
    });

    it(`leaves Distribution nothing to delete${untagged ? ' with -m' : ''}`, async () => {
      const { config } = await writtenByDistribution(untagged ? 'after-untagged' : 'after-plain');
      const ran = await berthGc(config, ['--grace', '0s', ...flag]);
      assert.ok(ran.blobs.length > 0 && ran.bytes > 0);
      const again = await distributionGarbageCollect(config, ['--dry-run', ...distFlag]);
      if (untagged) {
        const keptOnPurpose = await multiarchChildren(images);
        assert.deepEqual(without(eligible(again, 'blob'), keptOnPurpose), [], again);
        assert.deepEqual(without(eligible(again, 'manifest'), keptOnPurpose), [], again);
      } else {
        assert.match(again, /\b0 blobs and 0 manifests eligible for deletion/, again);
      }
      const second = await berthGc(config, ['--dry-run', '--grace', '0s', ...flag]);
      assert.deepEqual([second.blobs, second.manifests], [[], []]);
    });
  }
});
