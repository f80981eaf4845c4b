// Mutual TLS the way containerd presents a client certificate: hosts.toml `client = [[cert, key]]`
// read by ctr --hosts-dir. Without the certificate the handshake is refused.
// dockerd is not here: it treats every registry on 127.0.0.0/8 as insecure and reads
// /etc/docker/certs.d (client.cert, client.key) only for secure registries, so its client
// certificate cannot be exercised against a server on loopback, where tests must stay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireClients, tempDir } from '../e2e/support/env.js';
import { buildLabImages, type LabImages } from '../e2e/support/images.js';
import { startContainerd, type ContainerdProcess } from '../e2e/support/containerd-process.js';
import { PASSWORD, startAuthRegistry, type AuthRegistry } from './support.js';
import { makePki, type TestPki } from './tls-support.js';

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

describe('mutual TLS with containerd', () => {
  const gate = requireClients('skopeo', 'openssl', 'containerd', 'ctr');
  let dir: string;
  let pki: TestPki;
  let images: LabImages;
  let reg: AuthRegistry;
  const ref = () => `${reg.host}/team/tiny:v1`;
  before(async () => {
    gate.assertPresent();
    if (gate.skip) return;
    dir = await tempDir('mtls');
    pki = makePki(dir);
    images = await buildLabImages(join(dir, 'images'));
    reg = await startAuthRegistry('basic', {}, {
      configure: (c) => {
        c.http.tls = { certificate: pki.serverCert, key: pki.serverKey, clientcas: [pki.clientCaCert], minimumtls: 'tls1.2', letsencrypt: undefined };
      },
    });
    const certs = join(dir, 'skopeo-certs');
    mkdirSync(certs);
    copyFileSync(pki.caCert, join(certs, 'ca.crt'));
    copyFileSync(pki.clientCert, join(certs, 'client.cert'));
    copyFileSync(pki.clientKey, join(certs, 'client.key'));
    const push = await run('skopeo', ['--insecure-policy', 'copy', '--dest-cert-dir', certs, '--dest-creds', `alice:${PASSWORD}`, images.oci('tiny'), `docker://${ref()}`]);
    assert.equal(push.code, 0, push.out);
  });
  after(async () => reg?.close());

  function hostsDir(name: string, withClient: boolean): string {
    const hosts = join(dir, name);
    mkdirSync(join(hosts, reg.host), { recursive: true });
    writeFileSync(join(hosts, reg.host, 'hosts.toml'), [
      `server = "https://${reg.host}"`,
      `[host."https://${reg.host}"]`,
      '  capabilities = ["pull", "resolve", "push"]',
      `  ca = ${JSON.stringify(pki.caCert)}`,
      ...(withClient ? [`  client = [[${JSON.stringify(pki.clientCert)}, ${JSON.stringify(pki.clientKey)}]]`] : []),
      '',
    ].join('\n'));
    return hosts;
  }

  it('ctr pulls with the client certificate of hosts.toml, and is refused without it', { skip: gate.skip }, async () => {
    const containerd: ContainerdProcess = await startContainerd(join(dir, 'containerd'));
    try {
      const refused = await containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir('hosts-no-client', false), '--user', `alice:${PASSWORD}`, ref()], 120_000);
      assert.notEqual(refused.code, 0, 'no client certificate, no pull');
      assert.match(`${refused.stdout}${refused.stderr}`, /certificate|tls|handshake|remote error/i);
      const pulled = await containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir('hosts-client', true), '--user', `alice:${PASSWORD}`, ref()], 300_000);
      assert.equal(pulled.code, 0, `${pulled.stdout}${pulled.stderr}`);
      const listed = await containerd.mustCtr(['images', 'ls', '-q']);
      assert.match(listed, new RegExp(ref().replace(/[.]/g, '\\.')));
    } finally {
      await containerd.stop();
    }
  });
});
