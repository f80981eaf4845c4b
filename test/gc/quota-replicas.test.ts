// Quotas across replicas: two berth serve processes sharing one PostgreSQL and one storage
// directory take 40 manifest PUTs into one project at once, split between them. The project never
// goes past its quota (each check reserves its bytes under the project's advisory lock, so the
// two processes cannot both take the last room), refusals carry the quota message, and usage
// equals the accepted images exactly and a recount from storage.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { IN_CI, removeDir, tempDir } from '../e2e/support/env.js';
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { pushBlob } from '../support/push.js';
import { berthJson, runBerth } from '../support/cli.js';

const skip = !IN_CI && !postgresAvailable() ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false;
const LIMIT = 300 * 1000;

describe('quota across two replicas on one PostgreSQL', { skip }, () => {
  let dir: string | undefined;
  const replicas: BerthProcess[] = [];
  let config: string;
  before(async () => {
    dir = await tempDir('quota-replicas');
    const root = join(dir, 'data');
    const url = await freshPostgresDatabase();
    const env = { REGISTRY_META_POSTGRES_URL: url, REGISTRY_QUOTA_DEFAULT: '300KB' };
    replicas.push(await startBerth({ root, env }));
    replicas.push(await startBerth({ root, env }));
    config = join(dir, 'config.yml');
    await writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(root)}\nmeta:\n  postgres:\n    url: ${JSON.stringify(url)}\nquota:\n  default: 300KB\n`);
  });
  after(async () => {
    for (const r of replicas) await r.stop();
    await removeDir(dir);
  });

  it('concurrent pushes split between the replicas never take the project past its quota', async () => {
    const shared = blob(Buffer.alloc(100_000, 5));
    const cfg = blob('{"replicas":true}');
    const pushes = Array.from({ length: 40 }, (_, i) => {
      const own = blob(Buffer.alloc(9_000, i + 20));
      return { base: replicas[i % 2]!.url, repo: `busy/r${i % 5}`, own, m: imageManifest(cfg, [shared, own]) };
    });
    // Every blob first, then every manifest at once: the PUTs are where the quota is decided.
    for (const p of pushes) for (const b of [cfg, shared, p.own]) await pushBlob(p.base, p.repo, b);
    const outcomes = await Promise.all(pushes.map(async ({ base, repo, m }) => {
      const res = await fetch(`${base}/v2/${repo}/manifests/${m.digest}`, { method: 'PUT', body: m.body, headers: { 'Content-Type': m.mediaType } });
      const text = await res.text();
      if (res.status === 403) assert.match(text, /quota exceeded: project busy is limited/);
      return res.status;
    }));
    assert.ok(outcomes.every((s) => s === 201 || s === 403), outcomes.join(','));
    const accepted = outcomes.filter((s) => s === 201).length;
    assert.ok(accepted > 0 && accepted < 40, `accepted ${accepted} of 40`);
    const usage = await berthJson<{ projects: { project: string; totalBytes: number }[] }>(['usage', '-c', config, '--project', 'busy']);
    const busy = usage.projects[0]!;
    assert.ok(busy.totalBytes <= LIMIT, `${busy.totalBytes} > ${LIMIT}`);
    assert.equal(busy.totalBytes, shared.size + cfg.size + accepted * (9_000 + pushes[0]!.m.body.length));
    const verify = await runBerth(['usage', '-c', config, '--verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const left = await fetch(`${replicas[0]!.url}/v2/busy/r0/manifests/${pushes[0]!.m.digest}`, { method: 'HEAD' });
    assert.ok(left.status === 200 || left.status === 404);
  });
});
