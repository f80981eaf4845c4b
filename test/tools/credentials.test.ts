// Credentials: --creds, Docker's config.json `auths`, a docker-credential-* helper (credHelpers
// and credsStore), and `berth login` writing config.json the way docker login does.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import { tempDir, removeDir } from '../e2e/support/env.js';
import { dockerConfigCredentials, storeDockerCredentials } from '../../src/client/index.js';
import { startAuthProxy, type AuthProxy } from './support/auth-proxy.js';
import { berthOk, runBerth } from '../support/cli.js';

describe('credentials', () => {
  let work: string;
  let reg: TestRegistry;
  let basic: AuthProxy;
  let bearer: AuthProxy;
  let helperLog: string;
  let env: Record<string, string>;

  before(async () => {
    work = await tempDir('tools-creds');
    reg = await startTestRegistry();
    const config = blob('{"architecture":"amd64","os":"linux"}');
    const layer = randomBlob(2048);
    await pushImage(reg.url, 'lab/app', 'v1', config, [layer], imageManifest(config, [layer]));
    basic = await startAuthProxy({ upstream: reg.url, mode: 'basic', user: 'alice', password: 'secret' });
    bearer = await startAuthProxy({ upstream: reg.url, mode: 'bearer', user: 'bob', password: 'hunter2' });
    // A credential helper speaking the docker-credential protocol: `get` reads a server URL on stdin.
    const bin = join(work, 'bin');
    await mkdir(bin);
    helperLog = join(work, 'helper.log');
    await writeFile(join(bin, 'docker-credential-berthtest'), [
      '#!/bin/sh',
      `echo "$1 $(cat)" >> ${helperLog}`,
      'if [ "$1" = get ]; then echo \'{"ServerURL":"x","Username":"bob","Secret":"hunter2"}\'; fi',
      '',
    ].join('\n'));
    await chmod(join(bin, 'docker-credential-berthtest'), 0o755);
    env = { PATH: `${bin}:${process.env.PATH}` };
  });
  after(async () => {
    await basic?.close();
    await bearer?.close();
    await reg?.close();
    await removeDir(work);
  });

  it('uses --src-creds, and fails with 401 without credentials', async () => {
    const dir = join(work, 'empty-config');
    const without = await runBerth(['copy', '--plain-http', `docker://${basic.host}/lab/app:v1`, `oci:${join(work, 'o1')}:v1`], { DOCKER_CONFIG: dir });
    assert.equal(without.code, 1);
    assert.match(without.stderr, /401/);
    await berthOk(['copy', '-q', '--plain-http', '--src-creds', 'alice:secret', `docker://${basic.host}/lab/app:v1`, `oci:${join(work, 'o1')}:v1`], { DOCKER_CONFIG: dir });
  });

  it('reads auths from config.json', async () => {
    const dir = join(work, 'auths');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from('alice:secret').toString('base64') } } }));
    await berthOk(['copy', '-q', '--plain-http', `docker://${basic.host}/lab/app:v1`, `oci:${join(work, 'o2')}:v1`], { DOCKER_CONFIG: dir });
  });

  it('asks the credHelpers helper for its registry, and the credsStore for others', async () => {
    const dir = join(work, 'helpers');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [bearer.host]: 'berthtest' } }));
    await berthOk(['copy', '-q', '--plain-http', `docker://${bearer.host}/lab/app:v1`, `oci:${join(work, 'o3')}:v1`], { ...env, DOCKER_CONFIG: dir });
    assert.match(await readFile(helperLog, 'utf8'), new RegExp(`^get ${bearer.host.replace(/\./g, '\\.')}$`, 'm'));
    assert.equal(bearer.tokenRequests.at(-1)?.user, 'bob');
    const store = join(work, 'store');
    await mkdir(store);
    await writeFile(join(store, 'config.json'), JSON.stringify({ credsStore: 'berthtest' }));
    // The helper is on PATH for the child process only: here the lookup must say which helper is missing.
    await assert.rejects(dockerConfigCredentials(join(store, 'config.json'))('other.example'), /docker-credential-berthtest get: .*ENOENT/);
  });

  it('berth login checks the password and writes config.json as docker does', async () => {
    const dir = join(work, 'login');
    const bad = await runBerth(['login', basic.host, '-u', 'alice', '-p', 'wrong', '--plain-http'], { DOCKER_CONFIG: dir });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /refused the credentials of alice/);
    await berthOk(['login', basic.host, '-u', 'alice', '-p', 'secret', '--plain-http'], { DOCKER_CONFIG: dir });
    const doc = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    assert.equal(doc.auths[basic.host].auth, Buffer.from('alice:secret').toString('base64'));
    await berthOk(['copy', '-q', '--plain-http', `docker://${basic.host}/lab/app:v1`, `oci:${join(work, 'o4')}:v1`], { DOCKER_CONFIG: dir });
    const tokenLogin = await runBerth(['login', bearer.host, '-u', 'bob', '-p', 'nope', '--plain-http'], { DOCKER_CONFIG: dir });
    assert.equal(tokenLogin.code, 1);
    assert.match(tokenLogin.stderr, /token server .* answered 401 for user bob/);
  });

  it('storeDockerCredentials keeps the other keys of config.json', async () => {
    const file = join(work, 'keep', 'config.json');
    await mkdir(join(work, 'keep'));
    await writeFile(file, JSON.stringify({ auths: { 'a.example': { auth: 'eDp5' } }, psFormat: 'table {{.ID}}' }));
    await storeDockerCredentials('b.example', { username: 'u', password: 'p' }, file);
    const doc = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(doc.psFormat, 'table {{.ID}}');
    assert.deepEqual(Object.keys(doc.auths).sort(), ['a.example', 'b.example']);
  });
});
