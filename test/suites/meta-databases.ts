// One behavioural suite, two metadata backends: a suite written against `MetaDatabase` calls
// `forEachMetaDatabase` and runs once on embedded SQLite and once on a real PostgreSQL.
// Under CI=true a missing PostgreSQL fails the run; elsewhere those cases are skipped with a reason.
import { describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetaDatabase, type MetaDatabase } from '../../src/meta/database.js';
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { IN_CI } from '../e2e/support/env.js';

export interface MetaBackend {
  name: 'sqlite' | 'postgres';
  /** A new, empty, migrated database; the caller closes it. */
  open(): Promise<MetaDatabase>;
}

const backends: MetaBackend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'berth-meta-'));
      const meta = await openMetaDatabase({ sqlite: { path: join(dir, 'meta.sqlite') } });
      return { ...meta, close: async () => { await meta.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'postgres',
    async open() {
      return openMetaDatabase({ postgres: { url: await freshPostgresDatabase() } });
    },
  },
];

export function forEachMetaDatabase(title: string, suite: (backend: MetaBackend) => void): void {
  for (const backend of backends) {
    const skip = backend.name === 'postgres' && !IN_CI && !postgresAvailable()
      ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false;
    describe(`${title} (${backend.name})`, { skip }, () => suite(backend));
  }
}
