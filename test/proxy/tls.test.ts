// Per-upstream TLS: an upstream Berth that wants mutual TLS, reached with an extra CA and a
// client certificate; without the certificate, or without trusting its CA, pulls fail with an
// error naming the upstream; insecureskipverify skips the server's certificate check.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { image, pushWith } from '../auth/support.js';
import { makePki, type TestPki } from '../auth/tls-support.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { pull, startMirror, upstream } from './support.js';

describe('upstreams over TLS', () => {
  const gate = requireClients('openssl');
  let pki: TestPki;
  let up: TestRegistry;
  let mirror: TestRegistry;
  let root: string;
  const img = image();

  before(async () => {
    if (gate.skip) return;
    gate.assertPresent();
    pki = makePki(await tempDir('proxy-tls'));
    root = await tempDir('proxy-tls-root');
    // Content first over plain HTTP, then the same storage served with mutual TLS.
    const plain = await startTestRegistry({ root });
    assert.equal(await pushWith(plain.url, 'team/app', 'v1', img, undefined), 201);
    await plain.close();
    up = await startTestRegistry({
      root,
      configure: (c) => { c.http.tls = { certificate: pki.serverCert, key: pki.serverKey, clientcas: [pki.clientCaCert], minimumtls: 'tls1.2', letsencrypt: undefined }; },
    });
    const url = `https://${up.host}`;
    const client = { certificate: pki.clientCert, key: pki.clientKey };
    mirror = await startMirror({
      upstreams: [
        upstream('trusted', url, { tls: { insecureskipverify: false, ca: pki.caCert, ...client } }),
        upstream('nocert', url, { tls: { insecureskipverify: false, ca: pki.caCert } }),
        upstream('untrusted', url, { tls: { insecureskipverify: false, ...client } }),
        upstream('skipverify', url, { tls: { insecureskipverify: true, ...client } }),
      ],
    });
  });
  after(async () => {
    await mirror?.close();
    await up?.close();
    await removeDir(root);
    await removeDir(pki?.dir);
  });

  it('pulls with the extra CA and the client certificate', { skip: gate.skip }, async () => {
    const res = await pull(mirror.url, 'trusted/team/app', 'v1');
    assert.deepEqual([res.status, res.digest, res.cache], [200, img.manifest.digest, ['miss', 'miss', 'miss']]);
  });

  it('pulls with insecureskipverify (server certificate not checked, client certificate sent)', { skip: gate.skip }, async () => {
    assert.equal((await pull(mirror.url, 'skipverify/team/app', 'v1')).status, 200);
  });

  for (const name of ['nocert', 'untrusted']) {
    it(`fails with a 502 naming the upstream when the TLS handshake fails (${name})`, { skip: gate.skip }, async () => {
      const res = await fetch(`${mirror.url}/v2/${name}/team/app/manifests/v1`);
      const body = await res.json() as { errors: Array<{ code: string; message: string; detail: { upstream: string } }> };
      assert.equal(res.status, 502);
      assert.equal(body.errors[0]?.detail.upstream, name);
      assert.match(body.errors[0]?.message ?? '', new RegExp(`upstream "${name}" \\(https://127\\.0\\.0\\.1:\\d+\\)`));
    });
  }
});
