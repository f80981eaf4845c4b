import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openMetaDatabase, MetaDatabaseError, redactUrl } from '../../src/meta/database.js';
import { forEachMetaDatabase } from '../suites/meta-databases.js';

forEachMetaDatabase('metadata database', (backend) => {
  it('applies the migrations and records when the database was created', async () => {
    const meta = await backend.open();
    try {
      const row = await meta.db.selectFrom('berth_meta').select('value').where('key', '=', 'created_at').executeTakeFirstOrThrow();
      assert.ok(!Number.isNaN(Date.parse(row.value)));
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(meta.db);
      assert.deepEqual(applied.rows.map((r) => r.name)[0], '0000-bookkeeping');
    } finally {
      await meta.close();
    }
  });
});

it('reopening an SQLite file applies nothing twice and keeps its rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-meta-'));
  try {
    const path = join(dir, 'nested', 'meta.sqlite');
    const first = await openMetaDatabase({ sqlite: { path } });
    const created = await first.db.selectFrom('berth_meta').select('value').where('key', '=', 'created_at').executeTakeFirstOrThrow();
    await first.close();
    const second = await openMetaDatabase({ sqlite: { path } });
    const again = await second.db.selectFrom('berth_meta').selectAll().execute();
    await second.close();
    assert.deepEqual(again, [{ key: 'created_at', value: created.value }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('names an unreachable PostgreSQL without its password', async () => {
  await assert.rejects(openMetaDatabase({ postgres: { url: 'postgres://u:hunter2@127.0.0.1:1/db' } }), (err: Error) => {
    assert.ok(err instanceof MetaDatabaseError);
    assert.match(err.message, /cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/);
    assert.doesNotMatch(err.message, /hunter2/);
    return true;
  });
  assert.equal(redactUrl('not a url'), '(unparseable URL)');
});
