// Distribution mode (`proxy.remoteurl`: the whole registry mirrors one upstream, names
// unchanged) against an upstream with token auth, and skopeo (a real client) copying from
// Berth-as-mirror.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, basic, image, pushWith, seed, startAuthRegistry, token, type AuthRegistry } from '../auth/support.js';
import type { TestRegistry } from '../support/registry-server.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { skopeo } from '../e2e/support/skopeo.js';
import { CountingProxy, pull, sha256, startMirror } from './support.js';

const BOB = basic('bob', PASSWORD);
const bearer = (t: string) => `Bearer ${t}`;

describe('Distribution mode against a token-auth upstream', () => {
  let up: AuthRegistry;
  let counter: CountingProxy;
  let mirror: TestRegistry;
  const app = image();
  const tool = image();
  const fresh = image();
  const gate = requireClients('skopeo');

  before(async () => {
    up = await startAuthRegistry('token');
    await seed(up.store);
    const push = bearer(await token(up, ['repository:team/app:pull,push'], BOB));
    assert.equal(await pushWith(up.url, 'team/app', 'v1', app, push), 201);
    assert.equal(await pushWith(up.url, 'team/app', 'tool', tool, push), 201);
    assert.equal(await pushWith(up.url, 'team/app', 'fresh', fresh, push), 201);
    counter = await CountingProxy.start(up.host);
    mirror = await startMirror({ remoteurl: counter.url, username: 'bob', password: PASSWORD, ttl: '1h' });
  });
  after(async () => {
    await mirror?.close();
    await counter?.close();
    await up?.close();
  });

  it('serves every repository from the upstream under its own name, with one token per scope', async () => {
    const first = await pull(mirror.url, 'team/app', 'v1');
    assert.deepEqual([first.status, first.digest], [200, app.manifest.digest]);
    assert.deepEqual(first.cache, ['miss', 'miss', 'miss']);
    const second = await pull(mirror.url, 'team/app', 'tool');
    assert.equal(second.digest, tool.manifest.digest);
    // Five upstream requests for team/app, one token for its pull scope (cached until it expires).
    assert.equal(counter.count('GET', /\/auth\/token/), 1);
    counter.reset();
    // The tag is re-checked with one HEAD on every pull, as Distribution does; nothing else moves.
    assert.deepEqual((await pull(mirror.url, 'team/app', 'v1')).cache, ['revalidated', 'hit', 'hit']);
    assert.deepEqual(counter.seen.map((s) => `${s.method} ${s.path}`), ['HEAD /v2/team/app/manifests/v1']);
  });

  it('names the upstream when its credentials are refused (a repository bob may not read)', async () => {
    await up.store.addProject('secret');
    const res = await fetch(`${mirror.url}/v2/secret/x/manifests/v1`);
    const body = await res.json() as { errors: Array<{ code: string; detail: { upstream: string; reason: string } }> };
    assert.equal(res.status, 502);
    assert.deepEqual(body.errors[0]?.detail, { upstream: 'default', reason: 'auth', status: 401 });
  });

  it('refuses every push, as Distribution\'s proxy does', async () => {
    const res = await fetch(`${mirror.url}/v2/mine/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNSUPPORTED');
  });

  it('lets skopeo copy an uncached image from Berth-as-mirror', { skip: gate.skip }, async () => {
    gate.assertPresent();
    const dir = await tempDir('proxy-skopeo');
    counter.reset();
    try {
      await skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${mirror.host}/team/app:fresh`, `dir:${dir}`]);
      assert.equal(sha256(readFileSync(join(dir, 'manifest.json'))), fresh.manifest.digest);
      assert.equal(counter.count('GET', /\/blobs\/sha256:/), 2);
      const files = readdirSync(dir).filter((f) => /^[0-9a-f]{64}$/.test(f)).map((f) => `sha256:${f}`).sort();
      assert.deepEqual(files, [fresh.config.digest, fresh.layer.digest].sort());
      for (const f of files) assert.equal(sha256(readFileSync(join(dir, f.slice(7)))), f);
    } finally {
      await removeDir(dir);
    }
  });
});
