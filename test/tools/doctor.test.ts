// `berth doctor` against staged faults, one each: wrong CA, expired certificate, hostname
// mismatch, an HTTP server addressed as HTTPS, nothing listening, a wrong password, a missing
// containerd config_path and a hosts.toml in the wrong directory. Each must be named, with its fix.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { requireClients, tempDir, removeDir, freePort } from '../e2e/support/env.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import { makeTestCerts, type TestCerts } from './support/certs.js';
import { startAuthProxy, type AuthProxy } from './support/auth-proxy.js';
import { runBerth } from '../support/cli.js';

const gate = requireClients('openssl');

interface Finding { id: string; status: string; what: string; why?: string; fix?: string[] }
interface Report { ok: boolean; findings: Finding[] }

async function doctor(args: string[]): Promise<{ code: number; report: Report }> {
  const r = await runBerth(['doctor', ...args, '--json'], { DOCKER_CONFIG: '/nonexistent-docker-config' });
  try {
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  } catch {
    throw new Error(`doctor printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

function finding(report: Report, id: string): Finding {
  const f = report.findings.find((x) => x.id === id);
  assert.ok(f, `no finding ${id} in ${JSON.stringify(report.findings.map((x) => `${x.id}:${x.status}`))}`);
  return f;
}

describe('berth doctor', { skip: gate.skip }, () => {
  let work: string;
  let certs: TestCerts;
  let reg: TestRegistry;
  let proxy: AuthProxy;
  const tlsServers: Server[] = [];

  async function tlsServer(name: 'good' | 'expired' | 'wrong-host' | 'unknown-ca'): Promise<string> {
    const files = certs.server(name);
    const server = createHttpsServer({ cert: await readFile(files.cert), key: await readFile(files.key) }, (req, res) => {
      res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    tlsServers.push(server);
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    return `127.0.0.1:${addr.port}`;
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('tools-doctor');
    certs = await makeTestCerts(join(work, 'certs'));
    reg = await startTestRegistry();
    const config = blob('{"architecture":"amd64","os":"linux"}');
    const layer = randomBlob(4096);
    await pushImage(reg.url, 'lab/app', 'v1', config, [layer], imageManifest(config, [layer]));
    proxy = await startAuthProxy({ upstream: reg.url, mode: 'basic', user: 'alice', password: 'secret' });
  });
  after(async () => {
    for (const s of tlsServers) s.close();
    await proxy?.close();
    await reg?.close();
    await removeDir(work);
  });

  it('passes a healthy HTTPS registry whose CA is given', async () => {
    const host = await tlsServer('good');
    const { code, report } = await doctor([host, '--ca', certs.ca, '--no-local']);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(finding(report, 'tls').status, 'ok');
  });

  it('names an unknown CA with the fix for each client', async () => {
    const host = await tlsServer('unknown-ca');
    const { code, report } = await doctor([host, '--ca', certs.ca, '--no-local']);
    assert.equal(code, 1);
    const f = finding(report, 'tls.unknown-ca');
    assert.match(f.why!, /certificate signed by unknown authority/);
    assert.ok(f.fix!.some((x) => x.includes(`/etc/docker/certs.d/${host}/ca.crt`)));
    assert.ok(f.fix!.some((x) => x.includes('berth configure containerd') && x.includes('--ca')));
    assert.ok(f.fix!.some((x) => x.includes(`/etc/containers/certs.d/${host}/ca.crt`)));
  });

  it('names an expired certificate with its date', async () => {
    const host = await tlsServer('expired');
    const { code, report } = await doctor([host, '--ca', certs.ca, '--no-local']);
    assert.equal(code, 1);
    const f = finding(report, 'tls.expired');
    assert.match(f.what, new RegExp(`expired on ${new Date().getUTCFullYear() - 2}-01-01`));
    assert.ok(f.fix!.some((x) => /renew/.test(x)));
  });

  it('names a certificate issued for another host name', async () => {
    const host = await tlsServer('wrong-host');
    const { code, report } = await doctor([host, '--ca', certs.ca, '--no-local']);
    assert.equal(code, 1);
    const f = finding(report, 'tls.hostname');
    assert.match(f.what, /not valid for 127\.0\.0\.1 \(it names DNS:other\.example\)/);
    assert.ok(f.fix!.some((x) => x.includes('subjectAltName = IP:127.0.0.1')));
  });

  it('names an HTTP registry addressed as HTTPS, with insecure-registry fixes', async () => {
    const { code, report } = await doctor([reg.host, 'lab/app:v1', '--no-local']);
    assert.equal(code, 1);
    const f = finding(report, 'tls.http-server');
    assert.match(f.why!, /server gave HTTP response to HTTPS client/);
    assert.ok(f.fix!.some((x) => x.includes(`berth configure docker --registry ${reg.host} --insecure`)));
  });

  it('names a port where nothing listens', async () => {
    const port = await freePort();
    const { code, report } = await doctor([`127.0.0.1:${port}`, '--no-local']);
    assert.equal(code, 1);
    assert.match(finding(report, 'tcp.refused').what, new RegExp(`nothing is listening on 127\\.0\\.0\\.1:${port}`));
  });

  it('names a wrong password, and passes the right one through to the image checks', async () => {
    const bad = await doctor([proxy.host, 'lab/app:v1', '--plain-http', '--creds', 'alice:wrong', '--no-local']);
    assert.equal(bad.code, 1);
    assert.match(finding(bad.report, 'login.refused').what, /refused the credentials of alice/);
    const good = await doctor([proxy.host, 'lab/app:v1', '--plain-http', '--creds', 'alice:secret', '--no-local']);
    assert.equal(good.code, 0, JSON.stringify(good.report));
    assert.equal(finding(good.report, 'image.blob').status, 'ok');
    assert.equal(finding(good.report, 'image.manifest').status, 'ok');
  });

  it('names a containerd config.toml without config_path', async () => {
    const root = join(work, 'no-config-path');
    await mkdir(join(root, 'etc/containerd/certs.d', reg.host), { recursive: true });
    await writeFile(join(root, 'etc/containerd/config.toml'), 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n');
    await writeFile(join(root, 'etc/containerd/certs.d', reg.host, 'hosts.toml'), `server = "http://${reg.host}"\n`);
    const { code, report } = await doctor([reg.host, '--plain-http', '--root', root]);
    assert.equal(code, 1);
    const f = finding(report, 'containerd.config-path-missing');
    assert.match(f.why!, /ignores every hosts\.toml/);
    assert.ok(f.fix!.some((x) => x.includes(`berth configure containerd --registry ${reg.host}`)));
  });

  it('names a hosts.toml in the wrong directory, with the move that fixes it', async () => {
    const root = join(work, 'misplaced');
    await mkdir(join(root, 'etc/containerd/certs.d/127.0.0.1'), { recursive: true });
    await writeFile(join(root, 'etc/containerd/config.toml'), 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n');
    await writeFile(join(root, 'etc/containerd/certs.d/127.0.0.1/hosts.toml'), `server = "http://${reg.host}"\n`);
    const { code, report } = await doctor([reg.host, '--plain-http', '--root', root]);
    assert.equal(code, 1);
    const f = finding(report, 'containerd.hosts-misplaced');
    assert.match(f.why!, /port included/);
    assert.deepEqual(f.fix, [`mkdir -p /etc/containerd/certs.d/${reg.host} && mv /etc/containerd/certs.d/127.0.0.1/hosts.toml /etc/containerd/certs.d/${reg.host}/hosts.toml`]);
    // After berth configure, the same checks pass.
    const fixed = await runBerth(['configure', 'containerd', '--registry', reg.host, '--insecure', '--plain-http', '--root', root]);
    assert.equal(fixed.code, 0, fixed.stderr);
    const again = await doctor([reg.host, '--plain-http', '--root', root]);
    assert.equal(finding(again.report, 'containerd.hosts').status, 'ok');
  });
});
