// TLS termination: HTTP/2 negotiated by ALPN (HTTP/1.1 still served), mutual TLS refusing
// clients without a certificate of the client CA, and a certificate reload that keeps open
// connections. The PKI is made with openssl.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest, Agent } from 'node:https';
import { copyFileSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BERTH_BIN, cleanEnv, freePort, requireClients, stopChild, tail, tempDir, track } from '../e2e/support/env.js';
import { makePki, sClient, type TestPki } from './tls-support.js';
import { reloadCertificates } from '../../src/http/tls.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { resolveConfig } from '../../src/config/load.js';

const gate = requireClients('openssl');

function peerCn(socket: TLSSocket): string {
  return new X509Certificate(socket.getPeerCertificate(true).raw).subject;
}

function https(url: string, options: { ca: Buffer; cert?: Buffer; key?: Buffer; agent?: Agent }): Promise<{ status: number; body: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca: options.ca, ...(options.cert ? { cert: options.cert, key: options.key } : {}), ...(options.agent ? { agent: options.agent } : {}) }, (res) => {
      let body = '';
      const cn = peerCn(res.socket as TLSSocket);
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', { skip: gate.skip }, () => {
  let pki: TestPki;
  let reg: TestRegistry;
  let config: ConfigInput;
  let base: string;
  before(async () => {
    gate.assertPresent();
    pki = makePki(await tempDir('tls'));
    // The registry reads the files it was configured with: copies, so the reload test can replace them.
    copyFileSync(pki.serverCert, `${pki.dir}/live.crt`);
    copyFileSync(pki.serverKey, `${pki.dir}/live.key`);
    reg = await startTestRegistry({
      configure: (c) => {
        c.http.tls = { certificate: `${pki.dir}/live.crt`, key: `${pki.dir}/live.key`, clientcas: [], minimumtls: 'tls1.2', letsencrypt: undefined };
        config = c;
      },
    });
    base = reg.server.url;
  });
  after(async () => reg?.close());

  it('serves https, with HTTP/2 offered by ALPN and HTTP/1.1 still answered', async () => {
    assert.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const http1 = await https(`${base}/v2/`, { ca: readFileSync(pki.caCert) });
    assert.equal(http1.status, 200);
    const session = h2connect(base, { ca: readFileSync(pki.caCert) });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/v2/' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
      });
      assert.equal(status, 200);
      assert.equal(session.alpnProtocol, 'h2');
    } finally {
      session.close();
    }
  });

  it('reloads the certificate without dropping an open connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await https(`${base}/v2/`, { ca: readFileSync(pki.caCert), agent });
      assert.match(first.cn, /berth-server-1/);
      const next = pki.issueServer('server2', 'berth-server-2');
      copyFileSync(next.cert, `${pki.dir}/live.crt`);
      copyFileSync(next.key, `${pki.dir}/live.key`);
      reloadCertificates(reg.server.app.server, resolveConfig(config));
      const sameConnection = await https(`${base}/v2/`, { ca: readFileSync(pki.caCert), agent });
      assert.equal(sameConnection.status, 200);
      assert.match(sameConnection.cn, /berth-server-1/, 'the open connection keeps its session');
      // No TLS session cache: a resumed session would show the certificate of the old one.
      const fresh = await https(`${base}/v2/`, { ca: readFileSync(pki.caCert), agent: new Agent({ maxCachedSessions: 0 }) });
      assert.match(fresh.cn, /berth-server-2/, 'new connections get the new certificate');
    } finally {
      agent.destroy();
    }
  });

  it('keeps the old certificate when the new files are bad', async () => {
    copyFileSync(pki.caCert, `${pki.dir}/live.key`);
    assert.throws(() => reloadCertificates(reg.server.app.server, resolveConfig(config)));
    assert.equal((await https(`${base}/v2/`, { ca: readFileSync(pki.caCert) })).status, 200);
  });
});

describe('mutual TLS', { skip: gate.skip }, () => {
  let pki: TestPki;
  let reg: TestRegistry;
  before(async () => {
    gate.assertPresent();
    pki = makePki(await tempDir('mtls'));
    reg = await startTestRegistry({
      configure: (c) => { c.http.tls = { certificate: pki.serverCert, key: pki.serverKey, clientcas: [pki.clientCaCert], minimumtls: 'tls1.2', letsencrypt: undefined }; },
    });
  });
  after(async () => reg?.close());

  it('answers a client with a certificate of the client CA', async () => {
    const res = await https(`${reg.server.url}/v2/`, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
    assert.equal(res.status, 200);
  });

  it('refuses the handshake without a client certificate, or with one the client CA did not sign', async () => {
    await assert.rejects(https(`${reg.server.url}/v2/`, { ca: readFileSync(pki.caCert) }));
    await assert.rejects(https(`${reg.server.url}/v2/`, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }));
  });

  it('speaks TLS 1.2 or newer only', async () => {
    await assert.rejects(new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: Number(new URL(reg.server.url).port), ca: readFileSync(pki.caCert), maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => resolve(socket));
      socket.on('error', reject);
    }));
  });
});

describe('berth serve reloads its certificate on SIGHUP', { skip: gate.skip }, () => {
  it('serves the new certificate to new connections, and keeps serving', async () => {
    gate.assertPresent();
    const dir = await tempDir('sighup');
    const pki = makePki(dir);
    copyFileSync(pki.serverCert, `${dir}/live.crt`);
    copyFileSync(pki.serverKey, `${dir}/live.key`);
    const port = await freePort();
    const child = track(spawn(process.execPath, [BERTH_BIN, 'serve'], {
      env: cleanEnv({
        REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir, 'data'),
        REGISTRY_HTTP_TLS_CERTIFICATE: `${dir}/live.crt`, REGISTRY_HTTP_TLS_KEY: `${dir}/live.key`, REGISTRY_LOG_LEVEL: 'info',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    const log = tail();
    child.stdout?.on('data', (c: Buffer) => log.push(c));
    child.stderr?.on('data', (c: Buffer) => log.push(c));
    const url = `https://127.0.0.1:${port}/v2/`;
    const fresh = () => https(url, { ca: readFileSync(pki.caCert), agent: new Agent({ maxCachedSessions: 0 }) });
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const res = await fresh().catch(() => undefined);
        if (res?.status === 200) {
          assert.match(res.cn, /berth-server-1/);
          break;
        }
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`berth did not serve https:\n${log.text()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const next = pki.issueServer('server2', 'berth-server-2');
      copyFileSync(next.cert, `${dir}/live.crt`);
      copyFileSync(next.key, `${dir}/live.key`);
      child.kill('SIGHUP');
      const until = Date.now() + 10_000;
      let cn = '';
      while (Date.now() < until) {
        cn = (await fresh()).cn;
        if (/berth-server-2/.test(cn)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(cn, /berth-server-2/, log.text());
      assert.equal(child.exitCode, null, 'still running');
      assert.match(log.text(), /TLS certificate reloaded/);
    } finally {
      await stopChild(child);
    }
  });
});

describe('TLS 1.2 cipher suites', { skip: gate.skip }, () => {
  const AEAD = ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'];

  describe('by default', () => {
    let pki: TestPki;
    let reg: TestRegistry;
    let config: ConfigInput;
    let port: number;
    before(async () => {
      gate.assertPresent();
      pki = makePki(await tempDir('ciphers'));
      reg = await startTestRegistry({
        configure: (c) => {
          c.http.tls = { certificate: pki.serverCert, key: pki.serverKey, clientcas: [], minimumtls: 'tls1.2', letsencrypt: undefined };
          config = c;
        },
      });
      port = Number(new URL(reg.server.url).port);
    });
    after(async () => reg?.close());

    it('refuses static-RSA key exchange and CBC suites, and accepts ECDHE with AES-GCM, ChaCha20 and TLS 1.3', async () => {
      for (const cipher of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384']) {
        const h = await sClient(port, ['-tls1_2', '-cipher', cipher]);
        assert.equal(h.ok, false, `${cipher} was accepted`);
      }
      for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
        const h = await sClient(port, ['-tls1_2', '-cipher', cipher]);
        assert.equal(h.cipher, cipher, h.output.slice(-400));
      }
      const h13 = await sClient(port, ['-tls1_3']);
      assert.ok(h13.ok, h13.output.slice(-400));
      assert.match(h13.cipher, /^TLS_/);
    });

    it('keeps the same suites after a certificate reload', async () => {
      reloadCertificates(reg.server.app.server, resolveConfig(config));
      assert.equal((await sClient(port, ['-tls1_2', '-cipher', 'AES128-SHA'])).ok, false);
      assert.equal((await sClient(port, AEAD)).cipher, 'ECDHE-RSA-AES128-GCM-SHA256');
    });
  });

  it('berth serve takes Distribution\'s Go names and logs the handshakes it refuses', async () => {
    gate.assertPresent();
    const dir = await tempDir('go-ciphers');
    const pki = makePki(dir);
    const port = await freePort();
    const child = track(spawn(process.execPath, [BERTH_BIN, 'serve'], {
      env: cleanEnv({
        REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir, 'data'),
        REGISTRY_HTTP_TLS_CERTIFICATE: pki.serverCert, REGISTRY_HTTP_TLS_KEY: pki.serverKey, REGISTRY_LOG_LEVEL: 'info',
        // As in registry:2 configs: Go's names, a TLS 1.3 one among them.
        REGISTRY_HTTP_TLS_CIPHERSUITES: '[TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256]',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    const log = tail();
    child.stdout?.on('data', (c: Buffer) => log.push(c));
    child.stderr?.on('data', (c: Buffer) => log.push(c));
    try {
      const deadline = Date.now() + 20_000;
      let accepted = await sClient(port, AEAD);
      while (!accepted.ok && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 200));
        accepted = await sClient(port, AEAD);
      }
      assert.equal(accepted.cipher, 'ECDHE-RSA-AES128-GCM-SHA256', `the listed suite is refused:\n${accepted.output.slice(-400)}\n${log.text()}`);
      assert.ok((await sClient(port, ['-tls1_3'])).ok, 'TLS 1.3 is unaffected');
      // Not in the list: refused, and the refusal is in the log with the peer and the reason.
      assert.equal((await sClient(port, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384'])).ok, false);
      const until = Date.now() + 10_000;
      while (!/TLS handshake failed/.test(log.text()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const line = log.text().split('\n').find((l) => /TLS handshake failed/.test(l)) ?? '';
      assert.match(line, /no shared cipher/, log.text());
      assert.match(line, /127\.0\.0\.1/);
      assert.match(line, /"level":40|WARN/i);
    } finally {
      await stopChild(child);
    }
  });
});

describe('HTTP/2 request bodies (http.timeouts.bodyidle)', { skip: gate.skip }, () => {
  let pki: TestPki;
  let reg: TestRegistry;
  before(async () => {
    gate.assertPresent();
    pki = makePki(await tempDir('h2-bodies'));
    reg = await startTestRegistry({
      storage: 'filesystem',
      env: { REGISTRY_HTTP_TIMEOUTS_BODYIDLE: '1s' },
      configure: (c) => { c.http.tls = { certificate: pki.serverCert, key: pki.serverKey, clientcas: [], minimumtls: 'tls1.2', letsencrypt: undefined }; },
    });
  });
  after(async () => reg?.close());

  it('answers a stalled body 408 and ends its stream; the connection and the upload session go on', { timeout: 30_000 }, async () => {
    const session = h2connect(reg.server.url, { ca: readFileSync(pki.caCert) });
    session.on('error', () => undefined);
    const request = (headers: Record<string, string>, body?: Buffer, end = true) => new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const stream = session.request(headers);
      let status = 0;
      let got: Record<string, unknown> = {};
      let text = '';
      stream.on('response', (h) => { status = Number(h[':status']); got = h; });
      stream.on('data', (c: Buffer) => { text += c.toString(); });
      stream.on('close', () => resolve({ status, headers: got, body: text }));
      stream.on('error', reject);
      if (body) stream.write(body);
      if (end) stream.end();
    });
    try {
      const started = await request({ ':method': 'POST', ':path': '/v2/h2/app/blobs/uploads/' });
      assert.equal(started.status, 202);
      const location = new URL(String(started.headers.location), reg.server.url);
      const path = `${location.pathname}${location.search}`;
      // Ten bytes of a hundred, then nothing: the stream ends (the 'close' above) with a 408.
      const stalled = await request({ ':method': 'PATCH', ':path': path, 'content-range': '0-99', 'content-length': '100' }, Buffer.alloc(10), false);
      assert.equal(stalled.status, 408, stalled.body);
      assert.equal(JSON.parse(stalled.body).errors[0].code, 'UNAVAILABLE');
      assert.equal(session.destroyed, false, 'the connection stays up');
      const status = await request({ ':method': 'GET', ':path': path });
      assert.equal(status.status, 204);
      assert.equal(status.headers.range, '0-0', 'nothing of the stalled body was kept');
    } finally {
      session.close();
    }
  });
});
