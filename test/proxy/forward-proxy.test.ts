// Upstream fetches behind a corporate forward proxy: `berth serve` run with HTTP_PROXY /
// NO_PROXY in its environment (as operators run it), the explicit proxy.proxy and
// proxy.upstreams[].proxy keys winning over the environment, an https upstream reached through
// a CONNECT tunnel with its extra CA, and the host policy still refusing internal targets when a
// proxy makes the connection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { image, pushWith } from '../auth/support.js';
import { makePki, type TestPki } from '../auth/tls-support.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { ForwardProxy } from '../support/forward-proxy.js';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { sha256 } from '../support/oci-fixtures.js';
import { pull, startMirror, upstream } from './support.js';
import { HostileUpstream } from './support/hostile-upstream.js';

describe('pull-through cache behind a forward proxy', () => {
  let up: TestRegistry;
  let fwd: ForwardProxy;
  /** A second proxy, demanding credentials: the one the explicit keys name. */
  let authed: ForwardProxy;
  const roots: string[] = [];
  const servers: BerthProcess[] = [];
  const img = image();

  before(async () => {
    up = await startTestRegistry();
    assert.equal(await pushWith(up.url, 'team/app', 'v1', img, undefined), 201);
    fwd = await ForwardProxy.start();
    authed = await ForwardProxy.start('proxyuser:s3cret-proxy-pass');
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await fwd?.close();
    await authed?.close();
    await up?.close();
    for (const r of roots) await removeDir(r);
  });

  /** `berth serve` mirroring `up` (Distribution's proxy.remoteurl) with `env` added to its environment. */
  async function serve(env: Record<string, string>): Promise<BerthProcess> {
    const root = await tempDir('proxy-fwd');
    roots.push(root);
    const s = await startBerth({ root, env: { REGISTRY_PROXY_REMOTEURL: up.url, ...env } });
    servers.push(s);
    return s;
  }

  it('sends every upstream request through HTTP_PROXY', async () => {
    const before = fwd.count(up.host);
    const s = await serve({ HTTP_PROXY: fwd.url });
    const res = await pull(s.url, 'team/app', 'v1');
    assert.deepEqual([res.status, res.digest], [200, img.manifest.digest], s.logs());
    // The manifest, the config and the layer at least, all through the proxy.
    assert.ok(fwd.count(up.host) - before >= 3, `proxy saw ${fwd.count(up.host) - before} requests to ${up.host}`);
    assert.equal(fwd.count(), fwd.count(up.host));
  });

  it('takes a proxy given as host:port (http assumed) and says at startup that it is used', async () => {
    const before = fwd.count(up.host);
    const s = await serve({ HTTP_PROXY: fwd.host, REGISTRY_LOG_LEVEL: 'info' });
    assert.equal((await pull(s.url, 'team/app', 'v1')).status, 200, s.logs());
    assert.ok(fwd.count(up.host) > before, 'not through the proxy');
    assert.match(s.logs(), new RegExp(`pull-through cache: .* through proxy http://${fwd.host.replace(/\./g, '\\.')}`));
  });

  it('connects directly to hosts NO_PROXY lists (by host, or host and port), through the proxy otherwise', async () => {
    const port = Number(new URL(up.url).port);
    // Another port of the same host is not the upstream.
    let before = fwd.count(up.host);
    const other = await serve({ http_proxy: fwd.url, no_proxy: `example.com,127.0.0.1:${port === 1 ? 2 : 1}` });
    assert.equal((await pull(other.url, 'team/app', 'v1')).status, 200, other.logs());
    assert.ok(fwd.count(up.host) > before, 'NO_PROXY for another port bypassed the proxy');
    for (const noProxy of ['example.com,127.0.0.1', `127.0.0.1:${port}`]) {
      before = fwd.count();
      const s = await serve({ http_proxy: fwd.url, no_proxy: noProxy });
      assert.equal((await pull(s.url, 'team/app', 'v1')).status, 200, s.logs());
      assert.equal(fwd.count(), before, `NO_PROXY=${noProxy}`);
    }
  });

  it('uses proxy.proxy over the environment, with the credentials of its URL', async () => {
    const before = fwd.count();
    const s = await serve({ HTTP_PROXY: fwd.url, REGISTRY_PROXY_PROXY: `http://proxyuser:s3cret-proxy-pass@${authed.host}` });
    assert.equal((await pull(s.url, 'team/app', 'v1')).status, 200, s.logs());
    assert.ok(authed.count(up.host) >= 3, `proxy saw ${authed.count(up.host)} requests`);
    assert.equal(authed.refused, 0);
    assert.equal(fwd.count(), before);
    assert.ok(!s.logs().includes('s3cret-proxy-pass'), 'the proxy password was logged');
  });

  it('connects directly with proxy.proxy "none", whatever the environment says', async () => {
    const before = fwd.count();
    const s = await serve({ HTTP_PROXY: fwd.url, REGISTRY_PROXY_PROXY: 'none' });
    assert.equal((await pull(s.url, 'team/app', 'v1')).status, 200, s.logs());
    assert.equal(fwd.count(), before);
  });

  it('fails with a log naming the proxy (not its password) when the proxy is down', async () => {
    const dead = await ForwardProxy.start();
    await dead.close();
    const s = await serve({ HTTP_PROXY: `http://someone:dead-proxy-pass@${dead.host}`, REGISTRY_LOG_LEVEL: 'warn' });
    const res = await pull(s.url, 'team/app', 'v1');
    assert.equal(res.status, 502, res.body);
    assert.match(s.logs(), new RegExp(`through proxy http://${dead.host.replace(/\./g, '\\.')}: .*ECONNREFUSED`));
    assert.ok(!s.logs().includes('dead-proxy-pass'), 'the proxy password was logged');
  });
});

describe('pull-through cache: proxy.upstreams[].proxy', () => {
  const gate = requireClients('openssl');
  let fwd: ForwardProxy;
  let h: HostileUpstream;
  let mirror: TestRegistry;
  let tlsUp: TestRegistry | undefined;
  let pki: TestPki | undefined;
  let root: string | undefined;
  const img = image();

  before(async () => {
    fwd = await ForwardProxy.start();
    h = await HostileUpstream.start();
    const upstreams = [upstream('evil', h.url, { proxy: fwd.url })];
    if (!gate.skip) {
      gate.assertPresent();
      pki = makePki(await tempDir('proxy-fwd-tls'));
      root = await tempDir('proxy-fwd-tls-root');
      const plain = await startTestRegistry({ root });
      assert.equal(await pushWith(plain.url, 'team/app', 'v1', img, undefined), 201);
      await plain.close();
      tlsUp = await startTestRegistry({
        root,
        configure: (c) => { c.http.tls = { certificate: pki!.serverCert, key: pki!.serverKey, clientcas: [], minimumtls: 'tls1.2', letsencrypt: undefined }; },
      });
      upstreams.push(upstream('secure', `https://${tlsUp.host}`, { tls: { insecureskipverify: false, ca: pki.caCert }, proxy: fwd.url }));
    }
    mirror = await startMirror({ upstreams });
  });
  after(async () => {
    await mirror?.close();
    await tlsUp?.close();
    await h?.close();
    await fwd?.close();
    await removeDir(root);
    await removeDir(pki?.dir);
  });

  it('reaches an https upstream through a CONNECT tunnel, its extra CA still trusted', { skip: gate.skip }, async () => {
    const res = await pull(mirror.url, 'secure/team/app', 'v1');
    assert.deepEqual([res.status, res.digest], [200, img.manifest.digest], res.body);
    assert.ok(fwd.count(tlsUp!.host) > 0, `proxy saw ${fwd.count(tlsUp!.host)} tunnels to ${tlsUp!.host}`);
  });

  for (const repo of ['to-internal', 'to-localhost']) {
    it(`refuses a blob redirect to a loopback address through the proxy too (${repo})`, async () => {
      const seen = h.internal.seen.length;
      const before = fwd.count(new URL(h.url).host);
      const res = await fetch(`${mirror.url}/v2/evil/${repo}/blobs/${sha256('never')}`);
      const body = await res.json() as { errors: Array<{ detail?: { reason?: string } }> };
      assert.equal(res.status, 502);
      assert.equal(body.errors[0]?.detail?.reason, 'forbidden_target');
      // The upstream itself was asked through the proxy; the internal server never was.
      assert.ok(fwd.count(new URL(h.url).host) > before, 'the upstream was not reached through the proxy');
      assert.equal(fwd.count(h.internalHost) + fwd.count(`localhost:${h.internal.port}`), 0);
      assert.equal(h.internal.seen.length, seen, h.internal.seen.join('\n'));
    });
  }
});
