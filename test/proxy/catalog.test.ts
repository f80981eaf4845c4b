// The pull-through cache and the listing index: what the cache stores is listed by the catalog
// (SQLite index) whichever way it was pulled, as a push would be (issue 16, bug 1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { image, pushWith } from '../auth/support.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { pull, startMirror, upstream } from './support.js';

describe('pull-through cache and the catalog', () => {
  let up: TestRegistry;
  let mirror: TestRegistry;
  const app = image();
  const tagged = image();

  before(async () => {
    up = await startTestRegistry();
    assert.equal(await pushWith(up.url, 'team/app', 'v1', app, undefined), 201);
    assert.equal(await pushWith(up.url, 'team/tagged', 'v1', tagged, undefined), 201);
    mirror = await startMirror({ upstreams: [upstream('hub', up.url)] });
  });
  after(async () => {
    await mirror?.close();
    await up?.close();
  });

  const catalog = async () => ((await (await fetch(`${mirror.url}/v2/_catalog`)).json()) as { repositories: string[] }).repositories;

  it('lists a repository pulled by digest only', async () => {
    const pulled = await pull(mirror.url, 'hub/team/app', app.manifest.digest);
    assert.equal(pulled.status, 200);
    assert.ok((await catalog()).includes('hub/team/app'), `catalog: ${JSON.stringify(await catalog())}`);
  });

  it('lists a repository pulled by tag, with its tag', async () => {
    assert.equal((await pull(mirror.url, 'hub/team/tagged', 'v1')).status, 200);
    assert.ok((await catalog()).includes('hub/team/tagged'));
  });
});
