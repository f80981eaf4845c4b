// Key and certificate files that are not what the configuration says (a certificate as the
// key, garbage, an empty file, a key of another certificate) stop the real server at start, and
// `berth config verify`, with the config key, the file and what is wrong: never only OpenSSL's
// decoder message.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestRegistry } from '../support/registry-server.js';
import { BERTH_BIN, cleanEnv, removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { makePki, type TestPki } from './tls-support.js';
import type { ConfigInput as Config } from '../../src/config/schema.js';

const gate = requireClients('openssl');

async function startFails(configure: (c: Config) => void): Promise<string> {
  try {
    const reg = await startTestRegistry({ configure });
    await reg.close();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('the server started');
}

function berth(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BERTH_BIN, ...args], { env: cleanEnv({}), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('key and certificate files that are not keys', { skip: gate.skip }, () => {
  let pki: TestPki;
  let dir: string;
  let garbage: string;
  let empty: string;
  const tls = (certificate: string, key: string) => (c: Config) => {
    c.http.tls = { certificate, key, clientcas: [], minimumtls: 'tls1.2', letsencrypt: undefined };
  };

  before(async () => {
    gate.assertPresent();
    dir = await tempDir('key-files');
    pki = makePki(dir);
    garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a key at all\n');
    empty = join(dir, 'empty.pem');
    writeFileSync(empty, '');
  });
  after(async () => removeDir(dir));

  it('http.tls.key holding a certificate, garbage or nothing', async () => {
    const cases: [string, RegExp][] = [
      [pki.serverCert, /it holds a certificate, not a private key/],
      [garbage, /no PEM block/],
      [empty, /the file is empty/],
    ];
    for (const [file, reason] of cases) {
      const message = await startFails(tls(pki.serverCert, file));
      assert.ok(message.includes(`http.tls.key: ${file} is not a private key (PEM): `), message);
      assert.match(message, reason);
    }
  });

  it('http.tls.certificate holding a key, and a key of another certificate', async () => {
    const notCert = await startFails(tls(pki.serverKey, pki.serverKey));
    assert.ok(notCert.includes(`http.tls.certificate: ${pki.serverKey} is not a certificate (PEM): it holds a private key`), notCert);
    const mismatch = await startFails(tls(pki.serverCert, pki.clientKey));
    assert.ok(mismatch.includes(`http.tls.key: ${pki.clientKey} does not match the certificate in http.tls.certificate (${pki.serverCert})`), mismatch);
  });

  it('auth.token.signingkey holding a certificate', async () => {
    const message = await startFails((c) => {
      c.auth = { ...c.auth, token: { ...(c.auth?.token ?? {}), signingkey: pki.serverCert } } as Config['auth'];
    });
    assert.ok(message.includes(`auth.token.signingkey: ${pki.serverCert} is not a private key (PEM): it holds a certificate`), message);
  });

  it('berth serve and berth config verify name the key and the file', async () => {
    const config = join(dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'storage:',
      '  inmemory: {}',
      'http:',
      '  addr: 127.0.0.1:0',
      '  tls:',
      `    certificate: ${JSON.stringify(pki.serverCert)}`,
      `    key: ${JSON.stringify(pki.serverCert)}`,
      '',
    ].join('\n'));
    for (const args of [['serve', config], ['config', 'verify', config]]) {
      const res = await berth(args);
      assert.notEqual(res.code, 0, `${args.join(' ')} succeeded: ${res.stdout}`);
      assert.ok(res.stderr.includes(`http.tls.key: ${pki.serverCert} is not a private key (PEM): it holds a certificate`), `${args.join(' ')}: ${res.stderr}`);
      assert.doesNotMatch(res.stderr, /DECODER routines/);
    }
  });

  it('a file that cannot be read stops start; config verify (perhaps run elsewhere) only warns', async () => {
    const missing = join(dir, 'missing.pem');
    const message = await startFails(tls(pki.serverCert, missing));
    assert.ok(message.includes(`http.tls.key: cannot read ${missing}: ENOENT`), message);
    const config = join(dir, 'config-missing.yml');
    writeFileSync(config, `version: 0.1\nstorage:\n  inmemory: {}\nhttp:\n  tls:\n    certificate: ${JSON.stringify(pki.serverCert)}\n    key: ${JSON.stringify(missing)}\n`);
    const res = await berth(['config', 'verify', config]);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stdout.includes(`warning: http.tls.key: cannot read ${missing}: ENOENT (not checked)`), res.stdout);
  });
});
