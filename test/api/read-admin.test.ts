// The read API's usage and system routes: a repository's deduplicated bytes for whoever may pull
// it, projects' usage and the system page for system administrators only, with secrets masked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, seed, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { assertError, getJson, push, read } from './read-support.js';

const HTTP_SECRET = 'a-very-secret-http-secret-value';

describe('read API: usage and system', () => {
  let reg: AuthRegistry;
  const root = basic('root', PASSWORD);
  const layer = blob(Buffer.alloc(4000, 7));
  const sizes = new Map<string, number>();
  before(async () => {
    reg = await startAuthRegistry('basic', {}, { configure: (c) => { c.http = { ...c.http, secret: HTTP_SECRET }; } });
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    for (const name of ['team/app', 'team/db']) {
      const config = blob(JSON.stringify({ os: 'linux', architecture: 'amd64', name }));
      const manifest = imageManifest(config, [layer]);
      assert.equal(await push(reg.url, name, 'v1', manifest, [config, layer], root), 201);
      sizes.set(name, manifest.body.length + config.size + layer.size);
    }
  });
  after(async () => reg.close());

  it('answers a repository\'s usage to whoever may pull it, the shared layer counted as shared', async () => {
    const usage = await read<{ totalBytes: number; uniqueBytes: number; sharedBytes: number; manifests: number }>(`${reg.url}/api/v1/repositories/team/app/-/usage`, 'RepositoryUsage', basic('gus', PASSWORD));
    assert.equal(usage.totalBytes, sizes.get('team/app'));
    assert.equal(usage.sharedBytes, layer.size, 'the layer team/db holds too');
    assert.equal(usage.uniqueBytes, usage.totalBytes - layer.size);
    assert.equal(usage.manifests, 1);
    assertError(await getJson(`${reg.url}/api/v1/repositories/team/app/-/usage`, basic('olga', PASSWORD)), 403, 'DENIED');
    assertError(await getJson(`${reg.url}/api/v1/repositories/team/none/-/usage`, root), 404, 'NAME_UNKNOWN');
  });

  it('answers projects\' usage and the system page to system administrators only', async () => {
    const projects = await read<{ items: { project: string; totalBytes: number }[] }>(`${reg.url}/api/v1/usage/projects`, 'ProjectUsageList', root);
    const team = projects.items.find((p) => p.project === 'team');
    assert.equal(team?.totalBytes, sizes.get('team/app')! + sizes.get('team/db')! - layer.size, 'the shared layer once');
    await read(`${reg.url}/api/v1/usage/projects/team`, 'ProjectUsage', root);
    assertError(await getJson(`${reg.url}/api/v1/usage/projects/nothing`, root), 404, 'NAME_UNKNOWN');
    assertError(await getJson(`${reg.url}/api/v1/usage/projects`, basic('bob', PASSWORD)), 403, 'DENIED');
    assertError(await getJson(`${reg.url}/api/v1/system`), 401, 'UNAUTHORIZED');
    const system = await read<{ version: string; storage: string; metadata: string; config: { http: { secret: string } } }>(`${reg.url}/api/v1/system`, 'System', root);
    assert.equal(system.storage, 'inmemory');
    assert.equal(system.metadata, 'sqlite');
    assert.match(system.version, /^\d+\.\d+\.\d+/);
    assert.notEqual(system.config.http.secret, HTTP_SECRET);
    assert.doesNotMatch(JSON.stringify(system), new RegExp(HTTP_SECRET));
  });
});
