// Retention policies and immutable tags, per project (first path component of a repository).
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyRetention } from '../../src/policy/retention.js';
import { compilePolicies, type ProjectPolicyConfig } from '../../src/policy/policies.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { globToRegExp } from '../../src/policy/patterns.js';
import { Registry } from '../../src/registry/registry.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { pushImage, pushManifest } from '../support/push.js';
import { DRIVERS, putImage, putManifest } from './support/seed.js';

const policy = (p: Partial<ProjectPolicyConfig>): ProjectPolicyConfig => ({ keeptags: [], deleteolderthan: 0, immutabletags: [], ...p });
/** The same policy as written in config.yml (durations as text). */
type WrittenPolicy = ConfigInput['gc']['retention']['projects'][string];
const written = (p: WrittenPolicy): WrittenPolicy => ({ keeptags: [], deleteolderthan: '0', immutabletags: [], ...p });

async function tagged(registry: Registry, name: string, tags: string[]): Promise<void> {
  const config = blob(`{"repo":"${name}"}`);
  const layer = randomBlob(64);
  const m = imageManifest(config, [layer]);
  await putImage(registry, name, config, [layer], m);
  for (const tag of tags) {
    await putManifest(registry, name, m, tag);
    await sleep(5); // distinct push times, newest last
  }
}

describe('tag patterns', () => {
  it('match whole tags with *, ? and {a,b}', () => {
    const re = globToRegExp('v{1,2}.*-rc?');
    assert.ok(re.test('v1.4-rc1'));
    assert.ok(re.test('v2.0.0-rc9'));
    assert.ok(!re.test('v3.0-rc1'));
    assert.ok(!re.test('xv1.0-rc1'));
    assert.ok(globToRegExp('release.1').test('release.1') && !globToRegExp('release.1').test('releasex1'));
  });
});

for (const driver of DRIVERS) {
  describe(`retention on ${driver.name}`, () => {
    it('keeps the newest N tags and those matching a keep pattern, per project only', async () => {
      const { registry, cleanup } = await driver.make();
      try {
        await tagged(registry, 'team/app', ['old-1', 'stable', 'old-2', 'new-1', 'new-2']);
        await tagged(registry, 'other/app', ['a', 'b', 'c']);
        const policies = compilePolicies({ team: policy({ keeplast: 2, keeptags: ['stable'] }) });

        const dry = await applyRetention(registry, policies, { dryRun: true });
        const planned = dry.decisions.filter((x) => x.action === 'delete').map((x) => x.tag).sort();
        assert.deepEqual(planned, ['old-1', 'old-2']);
        assert.equal(dry.deleted, 0);
        assert.deepEqual(await registry.tags.list('team/app'), ['new-1', 'new-2', 'old-1', 'old-2', 'stable']);

        const report = await applyRetention(registry, policies);
        assert.equal(report.deleted, 2);
        assert.deepEqual(await registry.tags.list('team/app'), ['new-1', 'new-2', 'stable']);
        assert.deepEqual(await registry.tags.list('other/app'), ['a', 'b', 'c'], 'a project without policy is untouched');
      } finally {
        await cleanup();
      }
    });

    it('deletes tags older than a duration, never immutable ones', async () => {
      const { registry, cleanup } = await driver.make();
      try {
        await tagged(registry, 'lib/base', ['v1', 'nightly', 'v2']);
        const policies = compilePolicies({ lib: policy({ deleteolderthan: 24 * 3_600_000, immutabletags: ['v*'] }) });
        const now = () => Date.now() + 48 * 3_600_000;
        const report = await applyRetention(registry, policies, { now });
        const byTag = Object.fromEntries(report.decisions.map((x) => [x.tag, x]));
        assert.equal(byTag.nightly?.action, 'delete');
        assert.match(byTag.v1?.reason ?? '', /immutable \(rule "v\*"\)/);
        assert.deepEqual(await registry.tags.list('lib/base'), ['v1', 'v2']);
      } finally {
        await cleanup();
      }
    });
  });
}

describe('immutable tags over the API', () => {
  let server: TestRegistry;
  before(async () => {
    server = await startTestRegistry({
      configure: (c) => {
        c.gc.retention.projects = { prod: written({ immutabletags: ['v*', 'release-{a,b}'] }) };
      },
    });
  });
  after(() => server.close());

  async function push(name: string, tag: string, seed: string) {
    const config = blob(`{"seed":"${seed}"}`);
    const layer = randomBlob(32);
    const m = imageManifest(config, [layer]);
    await pushImage(server.url, name, tag, config, [layer], m);
    return m;
  }

  it('refuses to move an immutable tag with DENIED naming the rule, and allows pushing the same digest again', async () => {
    const first = await push('prod/api', 'v1.0', 'a');
    await pushManifest(server.url, 'prod/api', 'v1.0', first);
    const config = blob('{"seed":"b"}');
    const second = imageManifest(config, []);
    const blobRes = await fetch(`${server.url}/v2/prod/api/blobs/uploads/?digest=${config.digest}`, { method: 'POST', body: config.data });
    assert.equal(blobRes.status, 201);
    const res = await fetch(`${server.url}/v2/prod/api/manifests/v1.0`, {
      method: 'PUT', body: second.body, headers: { 'Content-Type': second.mediaType },
    });
    assert.equal(res.status, 403);
    const body = await res.json() as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, 'DENIED');
    assert.match(body.errors[0]?.message ?? '', /tag "v1\.0" of prod\/api is immutable .*rule "v\*" of project "prod"/);
    const still = await fetch(`${server.url}/v2/prod/api/manifests/v1.0`, { method: 'HEAD', headers: { Accept: first.mediaType } });
    assert.equal(still.headers.get('docker-content-digest'), first.digest);
  });

  it('refuses to delete an immutable tag, or its manifest by digest; other tags and projects are free', async () => {
    const m = await push('prod/web', 'release-a', 'c');
    const byTag = await fetch(`${server.url}/v2/prod/web/manifests/release-a`, { method: 'DELETE' });
    assert.equal(byTag.status, 403);
    const byDigest = await fetch(`${server.url}/v2/prod/web/manifests/${m.digest}`, { method: 'DELETE' });
    assert.equal(byDigest.status, 403);
    assert.match(((await byDigest.json()) as { errors: { message: string }[] }).errors[0]?.message ?? '', /release-a.*cannot be deleted/);

    await push('prod/web', 'latest', 'd');
    assert.equal((await fetch(`${server.url}/v2/prod/web/manifests/latest`, { method: 'DELETE' })).status, 202);
    await push('dev/web', 'v1.0', 'e');
    await push('dev/web', 'v1.0', 'f');
    assert.equal((await fetch(`${server.url}/v2/dev/web/manifests/v1.0`, { method: 'DELETE' })).status, 202);
  });
});
