// Temporaries a crash left in the filesystem driver: a write's file before its rename, a deleted
// entry set aside before its removal. The upload purger removes those older than the purge age
// and leaves fresh ones (a write in progress) alone.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { sweepTempFiles, TEMP_MARKER } from '../../src/server/temp-file-sweep.js';
import { startUploadPurger } from '../../src/server/upload-purger.js';
import { Registry } from '../../src/registry/registry.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';

const LONG_AGO = new Date('2020-01-01T00:00:00Z');
const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function plant(root: string, path: string, modified?: Date): string {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, 'sha256:' + '0'.repeat(64));
  if (modified) utimesSync(full, modified, modified);
  return full;
}

/** A root with an old and a fresh temporary file, and an old ordinary file beside them. */
function plantedRoot() {
  const root = mkdtempSync(join(tmpdir(), 'berth-tmp-sweep-'));
  dirs.push(root);
  const tags = 'docker/registry/v2/repositories/team/app/_manifests/tags';
  return {
    root,
    oldTemp: plant(root, `${tags}/v1/current/link${TEMP_MARKER}${randomUUID()}`, LONG_AGO),
    freshTemp: plant(root, `${tags}/v2/current/link${TEMP_MARKER}${randomUUID()}`),
    oldLink: plant(root, `${tags}/v1/current/link`, LONG_AGO),
  };
}

describe('sweeping abandoned temporary files', () => {
  it('removes temporary files older than the cutoff, and nothing else', async () => {
    const p = plantedRoot();
    const swept = await sweepTempFiles(p.root, new Date(Date.now() - 3_600_000));
    assert.deepEqual(swept.map((s) => s.path), [p.oldTemp]);
    assert.equal(existsSync(p.oldTemp), false);
    assert.equal(existsSync(p.freshTemp), true, 'a write in progress keeps its temporary file');
    assert.equal(existsSync(p.oldLink), true);
  });

  it('removes a directory a delete had set aside when its process died, whole, and nothing inside another directory', async () => {
    const p = plantedRoot();
    const hex = 'ab'.padEnd(64, 'c');
    const blobs = 'docker/registry/v2/blobs/sha256/ab';
    const aside = join(p.root, blobs, `${hex}${TEMP_MARKER}${randomUUID()}`);
    plant(p.root, `${blobs}/${hex}${TEMP_MARKER}${aside.split(TEMP_MARKER)[1]}/data`, LONG_AGO);
    utimesSync(aside, LONG_AGO, LONG_AGO);
    const kept = plant(p.root, `${blobs}/${'ab'.padEnd(64, 'd')}/data`, LONG_AGO);
    const swept = await sweepTempFiles(p.root, new Date(Date.now() - 3_600_000));
    assert.deepEqual(swept.map((s) => s.path).sort(), [aside, p.oldTemp].sort());
    assert.equal(existsSync(aside), false, 'the set-aside blob directory is gone with its data');
    assert.equal(existsSync(kept), true);
  });

  it('a delete sets the entry aside before removing it, and leaves no temporary once done', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-tmp-delete-'));
    dirs.push(root);
    const driver = new FilesystemDriver(root);
    await driver.putContent('/blobs/ab/abc/data', 'x');
    await driver.putContent('/blobs/ab/abd/data', 'y');
    await driver.delete('/blobs/ab/abc');
    assert.deepEqual(await driver.list('/blobs/ab'), ['/blobs/ab/abd']);
    assert.deepEqual(await sweepTempFiles(root, new Date(Date.now() + 60_000), true), [], 'no temporary left behind');
    await assert.rejects(driver.delete('/blobs/ab/abc'), { name: 'PathNotFoundError' });
  });

  it('only lists them in dry-run mode, and finds nothing under a missing root', async () => {
    const p = plantedRoot();
    assert.deepEqual((await sweepTempFiles(p.root, new Date(), true)).map((s) => s.path).sort(), [p.oldTemp, p.freshTemp].sort());
    assert.equal(existsSync(p.oldTemp), true);
    assert.deepEqual(await sweepTempFiles(join(p.root, 'absent'), new Date()), []);
  });

  it('runs with the upload purger on the filesystem driver, at the purge age', async () => {
    const p = plantedRoot();
    const registry = new Registry(new FilesystemDriver(p.root));
    const purger = startUploadPurger(registry, { enabled: true, age: 3_600_000, interval: 3_600_000, dryrun: false }, pino({ level: 'silent' }), {
      firstDelayMs: 0, filesystemRoot: p.root,
    });
    try {
      const end = Date.now() + 10_000;
      while (existsSync(p.oldTemp) && Date.now() < end) await sleep(20);
      assert.equal(existsSync(p.oldTemp), false);
      assert.equal(existsSync(p.freshTemp), true);
      assert.equal(existsSync(p.oldLink), true);
    } finally {
      purger.stop();
    }
  });
});
