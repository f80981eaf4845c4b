// The one assembly: a one-shot command's registry writes through the same listing index the
// server answers from, and a command starts no background work.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { assemble } from '../../src/server/assemble.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { putImage } from '../gc/support/seed.js';
import { removeDir, tempDir } from '../e2e/support/env.js';

describe('assemble', () => {
  let dir: string | undefined;
  before(async () => {
    dir = await tempDir('assemble');
  });
  after(() => removeDir(dir));

  it("gives a command the core with the metadata database's listing index", async () => {
    const { config } = loadConfig({ env: { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir!, 'data') } });
    const assembly = await assemble(config, { logger: pino({ level: 'silent' }) });
    try {
      assert.ok(assembly.meta && assembly.listing, 'the index is on by default');
      assert.equal(assembly.observability, undefined);
      assert.equal(assembly.registry, assembly.core, 'a command has no listeners around the core');
      const config1 = blob('{"assemble":1}');
      const layer = randomBlob(128);
      await putImage(assembly.core, 'team/app', config1, [layer], imageManifest(config1, [layer]), 'v1');
      assert.deepEqual((await assembly.listing.database.tags('team/app', { n: 10 }))?.items, ['v1']);
      await assembly.core.tags.untag('team/app', 'v1');
      assert.deepEqual((await assembly.listing.database.tags('team/app', { n: 10 }))?.items ?? [], []);
    } finally {
      await assembly.close();
    }
  });
});
