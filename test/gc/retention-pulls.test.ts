// Retention's "pulled within" rule and per-repository rules (issue 20), and what a pull of a
// tag retention deleted answers: rules judged in process on both drivers, then end to end: a
// real GET recorded by `berth serve` (batched pull times), `berth retention`, then GET and skopeo
// on the deleted tag.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyRetention, type RetentionDecision } from '../../src/policy/retention.js';
import { compilePolicies } from '../../src/policy/policies.js';
import { loadConfig } from '../../src/config/load.js';
import type { Registry } from '../../src/registry/registry.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { startTestRegistry } from '../support/registry-server.js';
import { pushImage } from '../support/push.js';
import { runBerth } from '../support/cli.js';
import { skopeoRun } from '../e2e/support/skopeo.js';
import { DRIVERS, putImage, putManifest } from './support/seed.js';

const HOUR = 3_600_000;

/** Pushes one image per tag of `tags` (oldest first, distinct push times); answers their digests by tag. */
async function tagged(registry: Registry, name: string, tags: string[]): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const tag of tags) {
    const config = blob(`{"repo":"${name}","tag":"${tag}"}`);
    const layer = randomBlob(64);
    const m = imageManifest(config, [layer]);
    await putImage(registry, name, config, [layer], m);
    await putManifest(registry, name, m, tag);
    digests.set(tag, m.digest);
    await sleep(5);
  }
  return digests;
}

const byTag = (ds: RetentionDecision[], repository: string) => Object.fromEntries(ds.filter((d) => d.repository === repository).map((d) => [d.tag, d]));

for (const driver of DRIVERS) {
  describe(`retention rules on ${driver.name}`, () => {
    it('judges each repository by its most specific glob, unset rules inherited from the project', async () => {
      const { registry, cleanup } = await driver.make();
      try {
        for (const name of ['team/app', 'team/web/site', 'team/web/api']) await tagged(registry, name, ['t1', 't2', 't3', 't4']);
        const policies = compilePolicies({
          team: {
            keeplast: 1, keeptags: ['t1'],
            repositories: { 'web/*': { keeplast: 2 }, 'web/api': { keeptags: [] } },
          },
        });
        const report = await applyRetention(registry, policies);
        const app = byTag(report.decisions, 'team/app');
        assert.equal(app.t1?.action, 'keep', 'the project keeps t1');
        assert.deepEqual(['t2', 't3'].map((t) => app[t]?.action), ['delete', 'delete']);
        assert.equal(app.t2?.policy, 'team');
        // web/site: web/* keeps the 2 newest, keeptags inherited (t1 kept).
        assert.deepEqual(await registry.tags.list('team/web/site'), ['t1', 't3', 't4']);
        assert.equal(byTag(report.decisions, 'team/web/site').t2?.policy, 'team/web/*');
        // web/api: the exact name is more specific than web/*; it clears keeptags and inherits keeplast 1 from the project.
        assert.deepEqual(await registry.tags.list('team/web/api'), ['t4']);
        assert.equal(byTag(report.decisions, 'team/web/api').t1?.policy, 'team/web/api');
      } finally {
        await cleanup();
      }
    });

    it('keeps a tag whose manifest was pulled within the window, and every tag when pull times are unknown', async () => {
      const { registry, cleanup } = await driver.make();
      try {
        const digests = await tagged(registry, 'team/app', ['old', 'pulled', 'stale', 'new']);
        const policies = compilePolicies({ team: { keeplast: 1, keeppulledwithin: 720 * HOUR } });
        const now = Date.now();
        const pulls = new Map([[digests.get('pulled')!, now - 24 * HOUR], [digests.get('stale')!, now - 1000 * HOUR]]);
        const asked: string[][] = [];

        const blind = await applyRetention(registry, policies, { dryRun: true });
        assert.ok(blind.decisions.every((d) => d.action === 'keep'), 'no pull times: nothing is deleted by a rule that needs them');
        assert.match(byTag(blind.decisions, 'team/app').old?.reason ?? '', /pull times are not tracked/);

        const report = await applyRetention(registry, policies, {
          pullTimes: async (repository, ds) => {
            asked.push([repository, ...ds]);
            return new Map(ds.flatMap((d) => (pulls.has(d) ? [[d, pulls.get(d)!] as const] : [])));
          },
        });
        const judged = byTag(report.decisions, 'team/app');
        assert.equal(judged.pulled?.action, 'keep');
        assert.match(judged.pulled?.reason ?? '', /pulled within 720h/);
        assert.equal(judged.stale?.action, 'delete');
        assert.match(judged.stale?.reason ?? '', /last pulled/);
        assert.match(judged.old?.reason ?? '', /never pulled/);
        assert.equal(asked.length, 1, 'pull times are asked once per repository');
        assert.deepEqual(await registry.tags.list('team/app'), ['new', 'pulled']);
      } finally {
        await cleanup();
      }
    });
  });
}

describe('retention configuration', () => {
  it('refuses keeppulledwithin without the listing index, and a broken repository glob', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-retention-config-'));
    try {
      const file = join(dir, 'config.yml');
      await writeFile(file, [
        'version: 0.1', 'storage: {inmemory: {}}', 'meta: {index: {enabled: false}}',
        'gc: {retention: {projects: {team: {keeppulledwithin: 720h, repositories: {"web/{a": {keeplast: 1}}}}}}', '',
      ].join('\n'));
      assert.throws(() => loadConfig({ file }), (err: Error & { problems?: string[] }) => {
        const text = (err.problems ?? [err.message]).join('\n');
        assert.match(text, /gc\.retention\.projects\.team\.keeppulledwithin: pull times are kept with the listing index/);
        assert.match(text, /gc\.retention\.projects\.team\.repositories: unclosed "\{"/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('pulled within, end to end', () => {
  it('a pull served by berth serve keeps its tag from berth retention; the deleted tag answers MANIFEST_UNKNOWN naming retention', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-retention-pulls-'));
    const root = join(dir, 'data');
    try {
      let server = await startTestRegistry({ root });
      const digests = new Map<string, string>();
      let mediaType = '';
      for (const tag of ['a', 'b', 'c']) {
        const config = blob(`{"tag":"${tag}"}`);
        const layer = randomBlob(128);
        const m = imageManifest(config, [layer]);
        await pushImage(server.url, 'team/app', tag, config, [layer], m);
        digests.set(tag, m.digest);
        mediaType = m.mediaType;
        await sleep(20);
      }
      const pulled = await fetch(`${server.url}/v2/team/app/manifests/b`, { headers: { Accept: mediaType } });
      assert.equal(pulled.status, 200);
      await pulled.arrayBuffer();
      // Closing writes the pull times still collected in memory.
      await server.close();

      const configFile = join(dir, 'config.yml');
      await writeFile(configFile, [
        'version: 0.1', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(root)}`,
        'gc:', '  retention:', '    projects:', '      team: {keeplast: 1, keeppulledwithin: 720h}', '',
      ].join('\n'));
      const res = await runBerth(['retention', '--config', configFile, '--json']);
      assert.equal(res.code, 0, res.stderr);
      const report = JSON.parse(res.stdout) as { deleted: number; decisions: RetentionDecision[] };
      const judged = byTag(report.decisions, 'team/app');
      assert.equal(report.deleted, 1);
      assert.equal(judged.a?.action, 'delete');
      assert.equal(judged.b?.action, 'keep');
      assert.match(judged.b?.reason ?? '', /pulled within 720h/);
      assert.equal(judged.c?.action, 'keep');

      server = await startTestRegistry({ root });
      try {
        const tags = await (await fetch(`${server.url}/v2/team/app/tags/list`)).json() as { tags: string[] };
        assert.deepEqual(tags.tags, ['b', 'c']);
        const gone = await fetch(`${server.url}/v2/team/app/manifests/a`, { headers: { Accept: mediaType } });
        assert.equal(gone.status, 404);
        const body = await gone.json() as { errors: { code: string; message: string; detail: Record<string, string> }[] };
        const e = body.errors[0]!;
        assert.equal(e.code, 'MANIFEST_UNKNOWN');
        assert.equal(e.detail.reason, 'deleted by retention');
        assert.equal(e.detail.policy, 'team');
        assert.equal(e.detail.digest, digests.get('a'));
        assert.ok(Date.now() - Date.parse(e.detail.at!) < HOUR, `at: ${e.detail.at}`);
        assert.match(e.message, /tag a was deleted by retention \(rules of team\)/);
        // A tag that never existed stays a plain MANIFEST_UNKNOWN.
        const never = await (await fetch(`${server.url}/v2/team/app/manifests/zzz`)).json() as { errors: { message: string; detail: unknown }[] };
        assert.deepEqual(never.errors[0], { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown to registry', detail: { tag: 'zzz' } });
        // skopeo prints the message: the operator reading a CI log sees why.
        const inspect = await skopeoRun(['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/team/app:a`]);
        assert.notEqual(inspect.code, 0);
        assert.match(inspect.stderr, /manifest unknown: tag a was deleted by retention \(rules of team\) at /);
      } finally {
        await server.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
