// Push policies to real registries: Debian's docker-registry (CNCF Distribution 2.8) and a
// second Berth with token auth. Images pushed into Berth by skopeo and docker arrive with
// identical digests; a filtered tag does not; a deleted tag disappears at Distribution (which deletes by
// digest only); a wrong password parks the job with the error named; a destination that is
// down is retried until it is back.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { startDistribution, type DistributionProcess } from '../e2e/support/distribution-process.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { copy } from '../e2e/support/skopeo.js';
import { startDockerd } from '../e2e/support/dockerd-process.js';
import { CountingProxy } from '../fakes/counting-upstream.js';
import { startAuthRegistry, PASSWORD, type AuthRegistry } from '../auth/support.js';
import { endpointClient } from '../../src/replication/remote-side.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import { digestAt, eventually, replicationSection, tagsAt } from './support.js';

const gate = requireClients('skopeo', 'docker-registry', 'dockerd', 'docker');

describe('push policies to docker-registry and to Berth with token auth', { skip: gate.skip }, () => {
  let work: string;
  let images: LabImages;
  let dist: DistributionProcess;
  let tokenBerth: AuthRegistry;
  let flakyTarget: TestRegistry;
  let flaky: CountingProxy;
  let source: TestRegistry;
  const robotDigest = (repo: string, tag: string) => {
    const c = endpointClient({ name: 't', url: tokenBerth.url, username: 'robot', password: PASSWORD, insecure: false });
    return c.headManifest(repo, tag).then((h) => h?.digest).finally(() => c.close());
  };
  const jobsOf = async (policy: string) => source.server.replication!.store.history({ policy, limit: 100 });

  before(async () => {
    gate.assertPresent();
    work = await tempDir('replication-push');
    images = await sharedLabImages();
    dist = await startDistribution({ root: join(work, 'dist'), configDir: work });
    tokenBerth = await startAuthRegistry('token');
    await tokenBerth.store.addUser('robot', PASSWORD, true);
    flakyTarget = await startTestRegistry();
    flaky = await CountingProxy.start(flakyTarget.host);
    source = await startTestRegistry({
      configure: (c) => {
        const push = { direction: 'push' as const, trigger: { event: true }, deletes: false, referrers: true, concurrency: 4, enabled: true, destination: '' };
        c.replication = replicationSection({
          endpoints: [
            { name: 'dist', url: dist.url, insecure: false },
            { name: 'berth', url: tokenBerth.url, username: 'robot', password: PASSWORD, insecure: false },
            { name: 'wrong', url: tokenBerth.url, username: 'robot', password: 'not-the-password', insecure: false },
            { name: 'flaky', url: flaky.url, insecure: false },
          ],
          policies: [
            { ...push, name: 'to-dist', endpoint: 'dist', repositories: ['lab/*'], tags: '^v', deletes: true },
            { ...push, name: 'to-berth', endpoint: 'berth', repositories: ['lab/*'], destination: 'mirror' },
            { ...push, name: 'to-wrong', endpoint: 'wrong', repositories: ['bad/*'] },
            { ...push, name: 'to-flaky', endpoint: 'flaky', repositories: ['flaky/*'] },
          ],
        });
      },
    });
  });
  after(async () => {
    await source?.close();
    await flaky?.close();
    await flakyTarget?.close();
    await tokenBerth?.close();
    await dist?.stop();
    await removeDir(work);
  });

  it('images pushed by skopeo arrive at both with identical digests; a filtered tag only where no filter applies', async () => {
    await copy(images.oci('multiarch'), `docker://${source.host}/lab/multiarch:v1`, { all: true });
    await copy(images.oci('multilayer'), `docker://${source.host}/lab/layers:v1`);
    await copy(images.oci('multilayer'), `docker://${source.host}/lab/layers:dev`);
    for (const [repo, name] of [['lab/multiarch', 'multiarch'], ['lab/layers', 'multilayer']] as const) {
      assert.equal(await eventually(`${repo}:v1 at docker-registry`, () => digestAt(dist.url, repo, 'v1')), images.digest(name));
      assert.equal(await eventually(`${repo}:v1 at the token Berth`, () => robotDigest(`mirror/${repo}`, 'v1')), images.digest(name));
    }
    assert.equal(await eventually('lab/layers:dev at the token Berth', () => robotDigest('mirror/lab/layers', 'dev')), images.digest('multilayer'));
    await eventually('to-dist idle', async () => ((await jobsOf('to-dist')).every((j) => j.state === 'done') ? true : undefined));
    assert.equal(await digestAt(dist.url, 'lab/layers', 'dev'), undefined);
    // Shared layers went once: the second repository's blobs were there already or mounted.
    const layers = await jobsOf('to-berth');
    assert.ok(layers.every((j) => j.state === 'done' && j.failed === 0), JSON.stringify(layers));
  });

  it('an image pushed by docker arrives at both with the digest docker pushed', async () => {
    const dockerd = await startDockerd({ dir: join(work, 'docker'), insecureRegistries: [source.host] });
    try {
      const ref = `${source.host}/lab/docker:v1`;
      const archive = join(work, 'docker.tar');
      await copy(images.oci('multilayer'), `docker-archive:${archive}:${ref}`);
      await dockerd.mustDocker(['load', '-q', '-i', archive]);
      const out = await dockerd.mustDocker(['push', ref], 120_000);
      const pushed = out.split(/\s+/).find((w) => w.startsWith('sha256:'));
      assert.ok(pushed, `no digest in docker push output:\n${out}`);
      assert.equal(await digestAt(source.url, 'lab/docker', 'v1'), pushed);
      assert.equal(await eventually('lab/docker:v1 at docker-registry', () => digestAt(dist.url, 'lab/docker', 'v1')), pushed);
      assert.equal(await eventually('lab/docker:v1 at the token Berth', () => robotDigest('mirror/lab/docker', 'v1')), pushed);
    } finally {
      await dockerd.stop();
    }
  });

  it('deletes a tag at docker-registry when it is deleted here (deletes: true)', async () => {
    const res = await fetch(`${source.url}/v2/lab/layers/manifests/v1`, { method: 'DELETE' });
    assert.equal(res.status, 202);
    await eventually('lab/layers:v1 gone at docker-registry', async () => ((await digestAt(dist.url, 'lab/layers', 'v1')) === undefined ? true : undefined));
    assert.deepEqual(await tagsAt(dist.url, 'lab/multiarch'), ['v1']);
  });

  it('parks a job whose endpoint refuses the credentials, with the error named', async () => {
    const c = blob('{"bad":1}');
    await pushImage(source.url, 'bad/app', 'v1', c, [], imageManifest(c, []));
    const parked = await eventually('a parked job', async () => (await jobsOf('to-wrong')).find((j) => j.state === 'parked'));
    assert.equal(parked.attempts, 1, 'refused credentials are not retried by waiting');
    assert.match(parked.lastError ?? '', /401|UNAUTHORIZED|token server/);
    assert.doesNotMatch(parked.lastError ?? '', /not-the-password/);
  });

  it('retries while the destination is down and completes once it is back', async () => {
    flaky.mode = 'down';
    const c = blob('{"flaky":1}');
    const m = imageManifest(c, []);
    await pushImage(source.url, 'flaky/app', 'v1', c, [], m);
    await eventually('a failed attempt', async () => ((await jobsOf('to-flaky')).some((j) => j.attempts > 0 && j.lastError) ? true : undefined));
    flaky.mode = 'pass';
    assert.equal(await eventually('flaky/app:v1 there', () => digestAt(flakyTarget.url, 'flaky/app', 'v1')), m.digest);
    const job = await eventually('the job done', async () => (await jobsOf('to-flaky')).find((j) => j.state === 'done'));
    assert.ok(job.attempts >= 1);
  });
});
