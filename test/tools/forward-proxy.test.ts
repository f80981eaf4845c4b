// `berth copy`, `sync` and `doctor` behind a corporate forward proxy, run as users run them:
// the real binary with HTTP_PROXY / NO_PROXY in its environment. Every registry request goes
// through the proxy (with the credentials its URL carries), NO_PROXY bypasses it, and a proxy
// that is down fails the command with a message naming the proxy but not its password.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { image, pushWith } from '../auth/support.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { ForwardProxy } from '../support/forward-proxy.js';
import { runBerth } from '../support/cli.js';

describe('client tools behind a forward proxy', () => {
  let a: TestRegistry;
  let b: TestRegistry;
  let fwd: ForwardProxy;
  let authed: ForwardProxy;
  const img = image();
  let n = 0;

  before(async () => {
    a = await startTestRegistry();
    b = await startTestRegistry();
    assert.equal(await pushWith(a.url, 'team/app', 'v1', img, undefined), 201);
    fwd = await ForwardProxy.start();
    authed = await ForwardProxy.start('proxyuser:s3cret-proxy-pass');
  });
  after(async () => {
    await fwd?.close();
    await authed?.close();
    await a?.close();
    await b?.close();
  });

  const copy = (env: Record<string, string>) =>
    runBerth(['copy', '-q', '--plain-http', `docker://${a.host}/team/app:v1`, `docker://${b.host}/copied/app:v${++n}`], env);

  it('berth copy sends every request to both registries through HTTP_PROXY', async () => {
    const [fromA, fromB] = [fwd.count(a.host), fwd.count(b.host)];
    const r = await copy({ HTTP_PROXY: fwd.url });
    assert.equal(r.code, 0, r.stderr);
    // Source: manifest, config, layer at least; destination: blob checks or uploads and the manifest.
    assert.ok(fwd.count(a.host) - fromA >= 3, `proxy saw ${fwd.count(a.host) - fromA} requests to the source`);
    assert.ok(fwd.count(b.host) - fromB >= 3, `proxy saw ${fwd.count(b.host) - fromB} requests to the destination`);
    const res = await fetch(`${b.url}/v2/copied/app/manifests/v${n}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(res.headers.get('docker-content-digest'), img.manifest.digest);
  });

  it('berth copy goes direct to hosts NO_PROXY lists, through the proxy to the others', async () => {
    const [fromA, fromB] = [fwd.count(a.host), fwd.count(b.host)];
    const r = await copy({ http_proxy: fwd.url, NO_PROXY: `registry.example,${a.host}` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fwd.count(a.host), fromA, 'the source NO_PROXY lists went through the proxy');
    assert.ok(fwd.count(b.host) > fromB, 'the destination did not go through the proxy');
  });

  it('berth copy sends the credentials of the proxy URL as Proxy-Authorization', async () => {
    const r = await copy({ HTTP_PROXY: `http://proxyuser:s3cret-proxy-pass@${authed.host}` });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(authed.count(a.host) > 0 && authed.count(b.host) > 0);
    assert.equal(authed.refused, 0);
  });

  it('berth copy fails naming the proxy, not its password, when the proxy refuses the credentials', async () => {
    const r = await copy({ HTTP_PROXY: `http://proxyuser:wrong-proxy-pass@${authed.host}` });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`through proxy http://${authed.host.replace(/\./g, '\\.')}: .*407`));
    assert.ok(!`${r.stdout}${r.stderr}`.includes('wrong-proxy-pass'), r.stderr);
  });

  it('berth copy fails naming the proxy when the proxy is down', async () => {
    const dead = await ForwardProxy.start();
    await dead.close();
    const r = await copy({ HTTP_PROXY: `http://someone:dead-proxy-pass@${dead.host}` });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`through proxy http://${dead.host.replace(/\./g, '\\.')}: .*ECONNREFUSED`));
    assert.ok(!`${r.stdout}${r.stderr}`.includes('dead-proxy-pass'), r.stderr);
  });

  it('berth sync goes through HTTP_PROXY', async () => {
    const before = fwd.count(a.host);
    const r = await runBerth(['sync', '-q', '--plain-http', `docker://${a.host}/team/app`, `docker://${b.host}/synced`], { HTTP_PROXY: fwd.url });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fwd.count(a.host) - before >= 3, `proxy saw ${fwd.count(a.host) - before} requests`);
    const res = await fetch(`${b.url}/v2/synced/team/app/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(res.status, 200);
  });

  it('berth doctor checks the registry through HTTP_PROXY and says so', async () => {
    const before = fwd.count(a.host);
    const r = await runBerth(['doctor', '--no-local', '--json', `http://${a.host}`, 'team/app:v1'], { HTTP_PROXY: fwd.url, DOCKER_CONFIG: '/nonexistent-docker-config' });
    const report = JSON.parse(r.stdout) as { ok: boolean; findings: Array<{ id: string; status: string; what: string }> };
    const ids = report.findings.map((f) => `${f.id}:${f.status}`);
    assert.ok(ids.includes('proxy:ok'), ids.join(' '));
    assert.ok(ids.includes('v2:ok'), ids.join(' '));
    assert.ok(report.findings.find((f) => f.id === 'proxy')?.what.includes(fwd.url), JSON.stringify(report.findings));
    assert.ok(fwd.count(a.host) - before >= 2, `proxy saw ${fwd.count(a.host) - before} requests`);
  });

  it('berth config print masks the password of proxy.proxy', async () => {
    const r = await runBerth(['config', 'print'], { REGISTRY_PROXY_REMOTEURL: 'https://registry.example', REGISTRY_PROXY_PROXY: 'http://proxyuser:s3cret-proxy-pass@proxy.example:3128' });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('s3cret-proxy-pass'), r.stdout);
    assert.match(r.stdout, /http:\/\/proxyuser:\*\*\*@proxy\.example:3128/);
  });
});
