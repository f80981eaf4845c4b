// Quotas and usage on a real server: skopeo's push past a project's quota is refused at the
// manifest with DENIED and a message naming the quota, the project, its limit and its usage;
// nothing of the refused push stays counted; `berth usage` prints (and --verify recounts) what
// the server counted; /metrics exports berth_storage_project_bytes; and 50 concurrent pushes
// sharing layers into one project never take it past its limit and leave usage equal to a
// recount from storage.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { berthJson, berthOk, runBerth } from '../support/cli.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { pushBlob } from '../support/push.js';
import { requireClients } from '../e2e/support/env.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { inspectRaw, skopeoRun } from '../e2e/support/skopeo.js';
import { scrape, value } from '../obs/scrape.js';

interface UsageJson {
  projects: { project: string; totalBytes: number; uniqueBytes: number; sharedBytes: number; repositories: number; quotaBytes: number }[];
  repositories?: { repository: string; totalBytes: number; manifests: number }[];
}

const gate = requireClients('skopeo');
const LIMIT = 20 * 1000 * 1000;

describe('quotas and usage (skopeo, berth usage, /metrics)', { skip: gate.skip }, () => {
  let reg: TestRegistry;
  let images: LabImages;
  let configFile: string;

  before(async () => {
    gate.assertPresent();
    images = await sharedLabImages();
    reg = await startTestRegistry({
      storage: 'filesystem',
      configure: (c) => {
        c.metrics.mainlistener = true;
        (c as unknown as { quota: unknown }).quota = { default: '0', projects: { team: '20MB', busy: '300KB' } };
      },
    });
    configFile = join(reg.root!, 'config.yml');
    await writeFile(configFile, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${reg.root}\nquota:\n  projects:\n    team: 20MB\n`);
  });
  after(async () => {
    await reg?.close();
  });

  it('refuses a push past the quota with a message that says it is the quota, and counts nothing of it', async () => {
    const dest = (repo: string, tag: string) => `docker://${reg.host}/${repo}:${tag}`;
    const ok = await skopeoRun(['copy', '--dest-tls-verify=false', images.oci('tiny'), dest('team/small', 'v1')]);
    assert.equal(ok.code, 0, ok.stderr);
    const before = await berthJson<UsageJson>(['usage', '-c', configFile]);
    const small = before.projects.find((p) => p.project === 'team');
    assert.ok(small && small.totalBytes > 0 && small.totalBytes < LIMIT);
    assert.equal(small.quotaBytes, LIMIT);

    const refused = await skopeoRun(['copy', '--dest-tls-verify=false', images.oci('multilayer'), dest('team/big', 'v1')]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /quota exceeded: project team is limited to 19\.1 MiB and uses/);
    // Straight from the API: DENIED, the message and the figures in the detail.
    const manifest = JSON.parse((await inspectRaw(images.oci('multilayer'))).toString('utf8')) as Record<string, unknown>;
    const res = await fetch(`${reg.url}/v2/team/big/manifests/v1`, {
      method: 'PUT', body: JSON.stringify(manifest), headers: { 'Content-Type': String(manifest.mediaType) },
    });
    assert.equal(res.status, 403);
    const body = await res.json() as { errors: { code: string; message: string; detail: { reason: string; project: string; limit: number; usage: number } }[] };
    assert.equal(body.errors[0]?.code, 'DENIED');
    assert.equal(body.errors[0]?.detail.reason, 'quota');
    assert.deepEqual([body.errors[0]?.detail.project, body.errors[0]?.detail.limit, body.errors[0]?.detail.usage], ['team', LIMIT, small.totalBytes]);

    const afterRefusal = await berthJson<UsageJson>(['usage', '-c', configFile, '--project', 'team']);
    assert.equal(afterRefusal.projects[0]?.totalBytes, small.totalBytes, 'the refused push left nothing counted');
    assert.deepEqual(afterRefusal.repositories?.map((r) => r.repository), ['team/small']);
    const text = await berthOk(['usage', '-c', configFile]);
    assert.match(text.stdout, /^team\t.*quota 19\.1 MiB/m);
    const verify = await runBerth(['usage', '-c', configFile, '--verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /usage matches a recount from storage/);

    const { samples } = await scrape(`${reg.url}/metrics`);
    assert.equal(value(samples, 'berth_storage_project_bytes', { project: 'team' }), small.totalBytes);
  });

  it('50 concurrent pushes sharing layers never take a project past its quota, and usage equals a recount', async () => {
    const limit = 300 * 1000;
    const shared = blob(Buffer.alloc(100_000, 3));
    const config = blob('{"os":"linux"}');
    await pushBlob(reg.url, 'busy/base', shared);
    const pushes = Array.from({ length: 50 }, (_, i) => {
      const own = blob(Buffer.alloc(9_000, i + 10));
      return { repo: `busy/r${i % 7}`, own, m: imageManifest(config, [shared, own]) };
    });
    const outcomes = await Promise.all(pushes.map(async ({ repo, own, m }) => {
      await pushBlob(reg.url, repo, config);
      await pushBlob(reg.url, repo, shared);
      const b = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/?digest=${own.digest}`, { method: 'POST', body: own.data });
      await b.arrayBuffer();
      if (b.status !== 201) return b.status;
      const res = await fetch(`${reg.url}/v2/${repo}/manifests/${m.digest}`, { method: 'PUT', body: m.body, headers: { 'Content-Type': m.mediaType } });
      const text = await res.text();
      if (res.status === 403) assert.match(text, /quota exceeded: project busy is limited/);
      return res.status;
    }));
    const accepted = outcomes.filter((s) => s === 201).length;
    assert.ok(accepted > 0 && accepted < 50, `accepted ${accepted} of 50`);
    assert.ok(outcomes.every((s) => s === 201 || s === 403), outcomes.join(','));
    const usage = await berthJson<UsageJson>(['usage', '-c', configFile, '--project', 'busy']);
    const busy = usage.projects[0]!;
    assert.ok(busy.totalBytes <= limit, `${busy.totalBytes} > ${limit}`);
    // Exactly the accepted pushes: the shared layer and config once, each accepted image's own layer and manifest.
    const perImage = 9_000 + pushes[0]!.m.body.length;
    assert.equal(busy.totalBytes, shared.size + config.size + accepted * perImage);
    const verify = await runBerth(['usage', '-c', configFile, '--verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
