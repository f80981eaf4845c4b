// The console's files as `berth serve` sends them: the page under ui.path (and http.prefix) with
// its policy and no caching, hashed assets cached for good, nothing outside the build, and
// nothing at all with ui.enabled: false.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';

describe('console files', () => {
  let reg: TestRegistry;
  let off: TestRegistry;
  before(async () => {
    [reg, off] = await Promise.all([
      startTestRegistry({ configure: (c) => { c.http.prefix = '/reg'; c.ui.path = '/console'; } }),
      startTestRegistry({ configure: (c) => { c.ui.enabled = false; } }),
    ]);
  });
  after(async () => { await reg.close(); await off.close(); });

  it('serves the page for every console path with its base, a policy without unsafe-inline, and no caching', async () => {
    for (const path of ['/reg/console', '/reg/console/', '/reg/console/repositories/team/app']) {
      const res = await fetch(`${reg.url}${path}`);
      const html = await res.text();
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
      assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /unsafe/);
      assert.ok(html.includes('<base href="/reg/console/">'), html);
      assert.ok(html.includes('<meta name="berth-prefix" content="/reg">'));
      assert.doesNotMatch(html, /<script>|<style>|style="/, 'no inline script or style');
    }
  });

  it('serves hashed assets with immutable caching, and only files of the build', async () => {
    const html = await (await fetch(`${reg.url}/reg/console/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.length >= 2, html);
    for (const asset of assets) {
      const res = await fetch(`${reg.url}/reg/console/${asset}`);
      assert.equal(res.status, 200, asset);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.match(asset, /-[A-Za-z0-9_-]{8}\.(js|css)$/, 'the name carries a content hash');
    }
    for (const bad of ['assets/..%2Findex.html', 'assets/nothing-here.js', 'assets/index.html']) {
      const res = await fetch(`${reg.url}/reg/console/${bad}`);
      assert.ok(res.status === 404 || res.status === 400, `${bad}: ${res.status}`);
    }
  });

  it('serves no console with ui.enabled: false, and the registry API as ever', async () => {
    assert.equal((await fetch(`${off.url}/ui/`)).status, 404);
    assert.equal((await fetch(`${off.url}/v2/`)).status, 200);
  });
});
