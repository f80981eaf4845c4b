// `berth gc` and `berth retention` as an operator runs them: the real binary, on a directory a
// running `berth serve` is using; and the `gc.interval` schedule inside serve.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { startTestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushBlob, pushImage } from '../support/push.js';
import { StorageLock } from '../../src/gc/lock.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { berthGc } from './support/cli.js';
import { runBerth } from '../support/cli.js';
import { openMetaDatabase } from '../../src/meta/database.js';
import { readAudit } from '../../src/auth/audit.js';

describe('berth gc and berth retention beside a running berth serve', () => {
  let dir: string | undefined;
  let berth: BerthProcess;
  let config: string;
  before(async () => {
    dir = await tempDir('gc-cli');
    const root = join(dir, 'data');
    berth = await startBerth({ root });
    config = join(dir, 'config.yml');
    await writeFile(config, [
      'version: 0.1',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(root)}`,
      'gc:',
      '  retention:',
      '    projects:',
      '      team:',
      '        keeplast: 1',
      '',
    ].join('\n'));
  });
  after(async () => {
    await berth.stop();
    await removeDir(dir);
  });

  it('prints what it would delete, deletes it, and the served images still pull', async () => {
    const config1 = blob('{"cli":1}');
    const layer = randomBlob(4000);
    await pushImage(berth.url, 'team/app', 'v1', config1, [layer], imageManifest(config1, [layer]));
    await pushBlob(berth.url, 'team/app', randomBlob(1500));

    const text = await runBerth(['gc', '--config', config, '--dry-run', '--grace', '0s']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /blob eligible for deletion: sha256:[0-9a-f]{64} \(1\.5 KiB\)/);
    assert.match(text.stdout, /1 blobs \(1\.5 KiB\), 0 manifests and 1 layer links eligible for deletion .*\(dry run\)/);

    const report = await berthGc(config, ['--grace', '0s']);
    assert.equal(report.dryRun, false);
    assert.deepEqual([report.blobs.length, report.bytes], [1, 1500]);
    const pulled = await fetch(`${berth.url}/v2/team/app/blobs/${layer.digest}`);
    assert.equal(Buffer.from(await pulled.arrayBuffer()).length, 4000);
  });

  it('refuses to run while another collector holds the lock', async () => {
    const lock = new StorageLock(new FilesystemDriver(join(dir!, 'data')), { owner: 'replica-7' });
    await lock.acquire();
    try {
      const res = await runBerth(['gc', '--config', config]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /another garbage collection is running \(replica-7/);
    } finally {
      await lock.release();
    }
  });

  it('rejects a bad --grace with a plain message', async () => {
    const res = await runBerth(['gc', '--config', config, '--grace', 'soon']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--grace: invalid duration "soon"/);
  });

  it('reports and applies the retention policy', async () => {
    for (const tag of ['a', 'b']) {
      const c = blob(`{"tag":"${tag}"}`);
      await pushImage(berth.url, 'team/app', tag, c, [], imageManifest(c, []));
      await sleep(20);
    }
    const dry = await runBerth(['retention', '--config', config, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would delete team\/app:v1 .*not among the 1 newest/);
    assert.match(dry.stdout, /keep team\/app:b /);
    assert.match(dry.stdout, /3 tags evaluated, 2 would be deleted \(dry run\)/);
    const real = await runBerth(['retention', '--config', config]);
    assert.match(real.stdout, /2 deleted/);
    const tags = await (await fetch(`${berth.url}/v2/team/app/tags/list`)).json() as { tags: string[] };
    assert.deepEqual(tags.tags, ['b']);
    // One audit record per deleted tag, done by `retention`, in the database the server keeps.
    const meta = await openMetaDatabase({ sqlite: { path: join(dir!, 'data', 'berth', 'meta.sqlite') } });
    try {
      const audit = await readAudit(meta.db, { actor: 'retention' });
      assert.deepEqual(audit.map((e) => `${e.action} ${e.target}`).sort(), ['delete team/app:a', 'delete team/app:v1']);
      assert.match(String(audit[0]!.detail.digest), /^sha256:/);
    } finally {
      await meta.close();
    }
  });
});

describe('gc.interval in berth serve', () => {
  it('collects on its schedule', async () => {
    const server = await startTestRegistry({
      storage: 'filesystem',
      configure: (c) => {
        c.gc.interval = '200ms';
        c.gc.grace = '0s';
      },
    });
    try {
      const orphan = randomBlob(100);
      await pushBlob(server.url, 'r', orphan);
      let status = 200;
      for (let i = 0; i < 50 && status === 200; i++) {
        await sleep(100);
        status = (await fetch(`${server.url}/v2/r/blobs/${orphan.digest}`, { method: 'HEAD' })).status;
      }
      assert.equal(status, 404);
    } finally {
      await server.close();
    }
  });
});
