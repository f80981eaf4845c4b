// Endpoint credentials at rest: config.yml's and the CLI's alike are stored in the metadata
// database sealed under replication.key, never in clear; `berth replication rekey` reseals them
// under a new key while the old one is still accepted as replication.previouskey, after which
// the old key alone opens nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { berthJson, runBerth } from '../support/cli.js';
import { loadConfig } from '../../src/config/load.js';
import { openMeta } from '../../src/server/open-meta.js';
import { PolicyCatalog } from '../../src/replication/catalog.js';
import { sealingKey, unseal } from '../../src/replication/sealing.js';
import { eventually } from './support.js';

const CONFIG_SECRET = 'Config-Endpoint-Pw-8817';
const CLI_SECRET = 'Cli-Endpoint-Pw-5521';
const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('base64');

describe('replication credentials at rest and key rotation', () => {
  let dir: string;
  let root: string;
  let server: TestRegistry | undefined;
  const configFile = (name: string, keys: string[]) => {
    const path = join(dir, `${name}.yml`);
    writeFileSync(path, [
      'version: 0.1', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(root)}`, 'replication:', ...keys.map((k) => `  ${k}`),
      '  endpoints:', '    - {name: cfg, url: "http://127.0.0.1:9", username: robot, password: ' + CONFIG_SECRET + '}', '',
    ].join('\n'));
    return path;
  };
  /** Opens the database as `config` sees it. */
  const withCatalog = async <T>(config: string, fn: (c: PolicyCatalog, meta: Awaited<ReturnType<typeof openMeta>>) => Promise<T>) => {
    const { config: loaded } = loadConfig({ file: config });
    const meta = await openMeta(loaded);
    try {
      return await fn(new PolicyCatalog(meta.db, loaded.replication, sealingKey(loaded.replication)), meta);
    } finally {
      await meta.close();
    }
  };
  const storedRows = (config: string) => withCatalog(config, (_c, meta) => meta.db.selectFrom('replication_endpoints').selectAll().orderBy('name').execute());
  const databaseBytes = () => Buffer.concat(readdirSync(join(root, 'berth')).filter((f) => f.startsWith('meta.sqlite')).map((f) => readFileSync(join(root, 'berth', f))));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-repl-cred-'));
    root = join(dir, 'root');
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores config.yml\'s and the CLI\'s endpoint passwords sealed, never in clear', async () => {
    const oldConfig = configFile('old', [`key: ${OLD}`]);
    server = await startTestRegistry({
      root, storage: 'filesystem',
      configure: (c) => {
        c.replication = { key: OLD, endpoints: [{ name: 'cfg', url: 'http://127.0.0.1:9', username: 'robot', password: CONFIG_SECRET }] } as typeof c.replication;
      },
    });
    const rows = await eventually('config.yml\'s endpoint stored', async () => {
      const r = await storedRows(oldConfig);
      return r.some((e) => e.name === 'cfg') ? r : undefined;
    });
    const cfg = rows.find((e) => e.name === 'cfg')!;
    assert.equal(cfg.origin, 'config');
    assert.equal(unseal(Buffer.from(OLD, 'base64'), cfg.password_sealed!), CONFIG_SECRET);

    const endpoint = join(dir, 'endpoint.yml');
    writeFileSync(endpoint, `name: api-dr\nurl: http://127.0.0.1:9\nusername: robot\npassword: ${CLI_SECRET}\n`);
    const put = await runBerth(['replication', 'endpoint', 'put', endpoint, '--config', oldConfig]);
    assert.equal(put.code, 0, put.stderr);
    await server.close();
    server = undefined;

    const bytes = databaseBytes();
    assert.ok(bytes.length > 0);
    for (const secret of [CONFIG_SECRET, CLI_SECRET]) assert.ok(!bytes.includes(Buffer.from(secret)), `${secret} is not in the database files`);
    const listed = await berthJson<Array<{ name: string; hasPassword: boolean }>>(['replication', 'endpoint', 'list', '--config', oldConfig]);
    assert.deepEqual(listed.map((e) => [e.name, e.hasPassword]), [['cfg', true], ['api-dr', true]]);
    assert.ok(!JSON.stringify(listed).includes(CLI_SECRET));
  });

  it('reseals every password under a new key with the old one as previouskey; then the old key opens nothing', async () => {
    const rotating = configFile('rotating', [`key: ${NEW}`, `previouskey: ${OLD}`]);
    assert.equal((await withCatalog(rotating, (c) => c.endpoint('api-dr')))?.password, CLI_SECRET, 'the old key is accepted during the rotation');
    const done = await berthJson<{ endpoints: number; fromPrevious: number }>(['replication', 'rekey', '--config', rotating]);
    assert.deepEqual(done, { endpoints: 2, fromPrevious: 2 });
    const again = await berthJson<{ endpoints: number; fromPrevious: number }>(['replication', 'rekey', '--config', rotating]);
    assert.deepEqual(again, { endpoints: 2, fromPrevious: 0 });

    const rotated = configFile('new', [`key: ${NEW}`]);
    assert.equal((await withCatalog(rotated, (c) => c.endpoint('api-dr')))?.password, CLI_SECRET);
    const cfg = (await storedRows(rotated)).find((e) => e.name === 'cfg')!;
    assert.equal(unseal(Buffer.from(NEW, 'base64'), cfg.password_sealed!), CONFIG_SECRET);
    await assert.rejects(withCatalog(configFile('stale', [`key: ${OLD}`]), (c) => c.endpoint('api-dr')), /cannot be decrypted with the configured replication key/);
    for (const secret of [CONFIG_SECRET, CLI_SECRET]) assert.ok(!databaseBytes().includes(Buffer.from(secret)));

    const wrong = await runBerth(['replication', 'rekey', '--config', configFile('wrong', [`key: ${randomBytes(32).toString('base64')}`, `previouskey: ${OLD}`])]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /endpoint (api-dr|cfg) .* opens with neither replication\.key nor replication\.previouskey/);
  });
});
