// Push policies on registry events, Berth to Berth in one process: a pushed image arrives with
// its digest, a multi-arch index whole with its referrers, a filtered tag does not travel, a
// burst of pushes to one tag ends with the last one, and deletions follow with `deletes: true`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { artifact, blob, imageManifest, indexManifest, randomBlob, EMPTY_CONFIG } from '../support/oci-fixtures.js';
import { pushBlob, pushImage, pushManifest } from '../support/push.js';
import { digestAt, eventually, replicationSection, tagsAt } from './support.js';

describe('push policies on events (Berth to Berth)', () => {
  let source: TestRegistry;
  let dest: TestRegistry;

  before(async () => {
    dest = await startTestRegistry();
    source = await startTestRegistry({
      configure: (c) => {
        c.replication = replicationSection({
          endpoints: [{ name: 'dr', url: dest.url, insecure: false }],
          policies: [
            { name: 'to-dr', direction: 'push', endpoint: 'dr', repositories: ['team/*'], tags: '^v[0-9]', destination: 'mirror/', trigger: { event: true }, deletes: true, referrers: true, concurrency: 4, enabled: true },
          ],
        });
      },
    });
  });
  after(async () => {
    await source?.close();
    await dest?.close();
  });

  it('replicates a pushed image with the same digest, under the destination prefix', async () => {
    const config = blob('{"a":1}');
    const layer = randomBlob(4096);
    const m = imageManifest(config, [layer]);
    await pushImage(source.url, 'team/app', 'v1', config, [layer], m);
    const got = await eventually('team/app:v1 at the destination', () => digestAt(dest.url, 'mirror/team/app', 'v1'));
    assert.equal(got, m.digest);
  });

  it('does not replicate a tag the policy filters out, nor a repository it does not cover', async () => {
    const config = blob('{"b":2}');
    const m = imageManifest(config, []);
    await pushImage(source.url, 'team/app', 'latest', config, [], m);
    await pushImage(source.url, 'other/app', 'v1', config, [], m);
    const marker = imageManifest(blob('{"c":3}'), []);
    await pushImage(source.url, 'team/app', 'v2', blob('{"c":3}'), [], marker);
    await eventually('the marker tag', () => digestAt(dest.url, 'mirror/team/app', 'v2'));
    assert.equal(await digestAt(dest.url, 'mirror/team/app', 'latest'), undefined);
    assert.equal(await digestAt(dest.url, 'mirror/other/app', 'v1'), undefined);
  });

  it('replicates a multi-arch index whole, with a referrer pushed after it', async () => {
    const children = [0, 1].map((i) => {
      const c = blob(`{"arch":${i}}`);
      const l = randomBlob(2048);
      return { c, l, m: imageManifest(c, [l]) };
    });
    for (const ch of children) {
      await pushBlob(source.url, 'team/multi', ch.c);
      await pushBlob(source.url, 'team/multi', ch.l);
      await pushManifest(source.url, 'team/multi', ch.m.digest, ch.m);
    }
    const index = indexManifest(children.map((ch) => ch.m));
    await pushManifest(source.url, 'team/multi', 'v1.0', index);
    assert.equal(await eventually('the index', () => digestAt(dest.url, 'mirror/team/multi', 'v1.0')), index.digest);
    for (const ch of children) assert.equal(await digestAt(dest.url, 'mirror/team/multi', ch.m.digest), ch.m.digest);
    const sigLayer = blob('signature');
    await pushBlob(source.url, 'team/multi', EMPTY_CONFIG);
    await pushBlob(source.url, 'team/multi', sigLayer);
    const sig = artifact(index, 'application/vnd.dev.cosign.artifact.sig.v1+json', sigLayer);
    await pushManifest(source.url, 'team/multi', sig.digest, sig);
    const referrers = await eventually('the referrer at the destination', async () => {
      const res = await fetch(`${dest.url}/v2/mirror/team/multi/referrers/${index.digest}`);
      const body = (await res.json()) as { manifests: Array<{ digest: string }> };
      return body.manifests.length > 0 ? body.manifests : undefined;
    });
    assert.deepEqual(referrers.map((r) => r.digest), [sig.digest]);
  });

  it('ends a burst of pushes to one tag with the last pushed digest', async () => {
    const pushed: string[] = [];
    for (let i = 0; i < 8; i++) {
      const c = blob(`{"burst":${i}}`);
      const m = imageManifest(c, []);
      await pushImage(source.url, 'team/burst', 'v1', c, [], m);
      pushed.push(m.digest);
    }
    const last = pushed[pushed.length - 1]!;
    await eventually('the last digest at the destination', async () => ((await digestAt(dest.url, 'mirror/team/burst', 'v1')) === last ? true : undefined));
    const jobs = await source.server.replication!.store.history({ policy: 'to-dr', limit: 1000 });
    const burst = jobs.filter((j) => j.repository === 'team/burst');
    assert.ok(burst.length < pushed.length, `a burst of ${pushed.length} pushes made ${burst.length} jobs`);
    // Quiet: nothing waits any more, and the destination still has the last digest.
    await eventually('the queue to drain', async () => ((await source.server.replication!.store.history({ policy: 'to-dr', state: 'queued' })).length === 0 ? true : undefined));
    assert.equal(await digestAt(dest.url, 'mirror/team/burst', 'v1'), last);
  });

  it('deletes a tag at the destination once it is deleted here (deletes: true)', async () => {
    const c = blob('{"del":1}');
    const m = imageManifest(c, []);
    await pushImage(source.url, 'team/del', 'v1', c, [], m);
    await pushImage(source.url, 'team/del', 'v2', c, [], m);
    await eventually('both tags there', async () => ((await tagsAt(dest.url, 'mirror/team/del')).length === 2 ? true : undefined));
    const res = await fetch(`${source.url}/v2/team/del/manifests/v1`, { method: 'DELETE' });
    assert.equal(res.status, 202);
    await eventually('v1 gone there', async () => ((await tagsAt(dest.url, 'mirror/team/del')).join() === 'v2' ? true : undefined));
    assert.equal(await digestAt(dest.url, 'mirror/team/del', 'v2'), m.digest);
  });
});
