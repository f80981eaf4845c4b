// The policy catalog as two processes see one database: a running server and the CLI (or two
// replicas). A policy one of them stores, replaces or removes is what the other's very next
// read returns, so a push right after `berth replication policy put` is covered by it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { openMeta } from '../../src/server/open-meta.js';
import { PolicyCatalog } from '../../src/replication/catalog.js';
import { sealingKey } from '../../src/replication/sealing.js';
import { TEST_KEY } from './support.js';

describe('replication policy catalog shared by two processes', () => {
  let dir: string;
  const opened: Array<Awaited<ReturnType<typeof openMeta>>> = [];
  let server: PolicyCatalog;
  let cli: PolicyCatalog;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-repl-catalog-'));
    const config = join(dir, 'config.yml');
    writeFileSync(config, ['version: 0.1', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(join(dir, 'root'))}`, 'replication:', `  key: ${TEST_KEY}`, ''].join('\n'));
    const { config: loaded } = loadConfig({ file: config });
    // Two connections, as the server and a CLI process each open their own.
    for (let i = 0; i < 2; i++) opened.push(await openMeta(loaded));
    server = new PolicyCatalog(opened[0]!.db, loaded.replication, sealingKey(loaded.replication));
    cli = new PolicyCatalog(opened[1]!.db, loaded.replication, sealingKey(loaded.replication));
    await cli.putEndpoint({ name: 'dr', url: 'http://127.0.0.1:9' });
  });
  after(async () => {
    for (const m of opened) await m.close();
    await rm(dir, { recursive: true, force: true });
  });

  const policy = (name: string, repositories: string[]) => ({ name, direction: 'push', endpoint: 'dr', repositories, trigger: { event: true } });
  const covering = async (repo: string) => (await server.policies()).filter((p) => p.takesEvent(repo, 'push')).map((p) => p.name);

  it('sees a policy the other stored at its next read, though it had just read the list', async () => {
    assert.deepEqual(await covering('cli/app'), []);
    await cli.putPolicy(policy('from-cli', ['cli/*']));
    assert.deepEqual(await covering('cli/app'), ['from-cli']);
  });

  it('sees a replaced policy\'s new repositories and a removed policy gone, at once', async () => {
    assert.deepEqual(await covering('cli/app'), ['from-cli']);
    await cli.putPolicy(policy('from-cli', ['other/*']));
    assert.deepEqual(await covering('cli/app'), []);
    assert.deepEqual(await covering('other/app'), ['from-cli']);
    await cli.putPolicy(policy('second', ['cli/*']));
    assert.deepEqual(await covering('cli/app'), ['second']);
    await cli.deletePolicy('from-cli');
    assert.deepEqual(await covering('other/app'), []);
    assert.deepEqual((await server.policies()).map((p) => p.name), ['second']);
  });

  it('keeps the parsed policies while nothing changed', async () => {
    const first = await server.policies();
    const again = await server.policies();
    assert.equal(first[0], again[0], 'the same parsed object, not read again');
  });
});
