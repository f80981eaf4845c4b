// The SQLite metadata database (password hashes, tokens, audit) is readable by its owner only:
// created so by the real `berth serve`, with its -wal and -shm files, and tightened with a
// warning when an existing one is readable by others.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sqliteModule } from '../../src/meta/database.js';
import { startBerth } from '../e2e/support/berth-process.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { randomBlob } from '../support/oci-fixtures.js';

const mode = (path: string) => statSync(path).mode & 0o777;

/** The database and whichever of its -wal and -shm files exist. */
function databaseFiles(root: string): string[] {
  const db = join(root, 'berth', 'meta.sqlite');
  return [db, `${db}-wal`, `${db}-shm`].filter((f) => existsSync(f));
}

/** A push, so the database is written to (and its WAL grows) while the server runs. */
async function push(url: string): Promise<void> {
  const blob = randomBlob(1000);
  const res = await fetch(`${url}/v2/mode/app/blobs/uploads/?digest=${blob.digest}`, {
    method: 'POST', body: blob.data, headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(res.status, 201);
}

describe('metadata database file mode', () => {
  const roots: string[] = [];
  let umask: number;
  before(() => {
    // The usual umask, whatever this test runs under: it is what made the file 0644.
    umask = process.umask(0o022);
  });
  after(async () => {
    process.umask(umask);
    for (const r of roots) await removeDir(r);
  });

  it('is created owner-only, with its -wal and -shm files', async () => {
    const root = await tempDir('berth-mode-');
    roots.push(root);
    const b = await startBerth({ root });
    try {
      await push(b.url);
      const files = databaseFiles(root);
      assert.ok(files.length >= 2, `the database and its WAL while serving: ${files.join(', ')}`);
      for (const f of files) assert.equal(mode(f) & 0o077, 0, `${f} is ${mode(f).toString(8)}`);
    } finally {
      await b.stop();
    }
  });

  it('tightens an existing database readable by others, says so, and keeps serving from it', async () => {
    const root = await tempDir('berth-mode-');
    roots.push(root);
    const first = await startBerth({ root });
    await push(first.url);
    await first.stop();
    // As an older Berth left it: SQLite's default mode under umask 022.
    const path = join(root, 'berth', 'meta.sqlite');
    for (const f of databaseFiles(root)) chmodSync(f, 0o644);
    const Database = await sqliteModule();
    const before = new Database(path, { readonly: true });
    const created = before.prepare("select value from berth_meta where key = 'created_at'").get() as { value: string };
    before.close();

    const b = await startBerth({ root });
    try {
      await push(b.url);
      for (const f of databaseFiles(root)) assert.equal(mode(f) & 0o077, 0, `${f} is ${mode(f).toString(8)}`);
      assert.match(b.logs(), /metadata database .*meta\.sqlite was readable by others \(mode 0644\)/);
      const after = new Database(path, { readonly: true });
      const again = after.prepare("select value from berth_meta where key = 'created_at'").get() as { value: string };
      after.close();
      assert.equal(again.value, created.value, 'the same database, not a new one');
    } finally {
      await b.stop();
    }
  });
});
