// An endpoint config.yml defines under a name the API already stored (`berth replication
// endpoint put`): replication refuses to start, logging both (it used to replace the stored
// one silently, its URL and sealed password lost); the registry goes on serving, and once
// the stored one is removed, replication starts with config.yml's.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { startServerProcess, type ServerProcess } from '../support/processes.js';
import { BERTH_BIN, cleanEnv, freePort, stopChild, tempDir, removeDir } from '../e2e/support/env.js';
import { TEST_KEY, eventually } from './support.js';

const run = promisify(execFile);

describe('a config.yml endpoint with the name of a stored one', () => {
  let work: string;
  let server: ServerProcess | undefined;

  before(async () => { work = await tempDir('replication-clash'); });
  after(async () => {
    if (server) await stopChild(server.child, 'SIGKILL');
    await removeDir(work);
  });

  it('is refused at start naming both, without touching the stored one', async () => {
    const port = await freePort();
    const base = ['version: 0.1', 'log: {level: info, accesslog: {disabled: true}}', `storage: {filesystem: {rootdirectory: ${JSON.stringify(join(work, 'data'))}}}`, `http: {addr: 127.0.0.1:${port}}`];
    const plain = join(work, 'plain.yml');
    const clash = join(work, 'clash.yml');
    await writeFile(plain, [...base, `replication: {key: "${TEST_KEY}"}`, ''].join('\n'));
    await writeFile(clash, [...base, `replication: {key: "${TEST_KEY}", endpoints: [{name: dr, url: "https://dr.example.com"}]}`, ''].join('\n'));
    const file = join(work, 'dr.json');
    await writeFile(file, JSON.stringify({ name: 'dr', url: 'https://stored.example.com', username: 'robot', password: 'pw-stored' }));
    const cli = (...args: string[]) => run(process.execPath, [BERTH_BIN, 'replication', ...args], { env: cleanEnv() });
    await cli('endpoint', 'put', file, '--config', plain);

    server = await startServerProcess({ label: 'berth', command: process.execPath, args: [BERTH_BIN, 'serve', clash], env: cleanEnv(), port });
    const line = await eventually('the refusal in the log', async () => server!.logs().split('\n').find((l) => l.includes('replication did not start')), 20_000);
    assert.match(line, /endpoint \\"dr\\" is in config\.yml \(https:\/\/dr\.example\.com\) and was also added through the API \(https:\/\/stored\.example\.com\)/);
    assert.match(line, /berth replication endpoint rm dr/);
    assert.doesNotMatch(server.logs(), /pw-stored/);
    // The registry serves; the stored endpoint is as it was.
    assert.equal((await fetch(`${server.url}/v2/`)).status, 200);
    const listed = JSON.parse((await cli('endpoint', 'list', '--json', '--config', plain)).stdout) as Array<{ name: string; url: string; origin: string; hasPassword: boolean }>;
    assert.deepEqual(listed.map((e) => [e.name, e.url, e.origin, e.hasPassword]), [['dr', 'https://stored.example.com', 'api', true]]);
    await stopChild(server.child);

    // Removed from the database, config.yml's is taken at the next start.
    await cli('endpoint', 'rm', 'dr', '--config', plain);
    server = await startServerProcess({ label: 'berth', command: process.execPath, args: [BERTH_BIN, 'serve', clash], env: cleanEnv(), port });
    const views = await eventually('config.yml\'s endpoint stored', async () => {
      const v = JSON.parse((await cli('endpoint', 'list', '--json', '--config', clash)).stdout) as Array<{ name: string; url: string; origin: string }>;
      return v.length === 1 ? v : undefined;
    }, 20_000);
    assert.deepEqual(views.map((e) => [e.name, e.url, e.origin]), [['dr', 'https://dr.example.com', 'config']]);
    assert.doesNotMatch(server.logs(), /replication did not start/);
  });
});
