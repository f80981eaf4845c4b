// Real clients with credentials over TLS (test CA made with openssl): skopeo (--creds,
// --cert-dir, with and without a client certificate), and the lab scripts for docker (login,
// certs.d), podman (login) and containerd (ctr --user, hosts.toml with `ca =`), against htpasswd
// and token auth. Each lab run gets its own LAB_TMP so parallel runs do not meet.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_DIR, requireClients, tempDir } from '../e2e/support/env.js';
import { buildLabImages, type LabImages } from '../e2e/support/images.js';
import { PASSWORD, startAuthRegistry, type AuthRegistry } from './support.js';
import { makePki, type TestPki } from './tls-support.js';
import type { ConfigInput as Config } from '../../src/config/schema.js';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 600_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

const tlsWith = (pki: TestPki, mutual: boolean) => (c: Config) => {
  c.http.tls = { certificate: pki.serverCert, key: pki.serverKey, clientcas: mutual ? [pki.clientCaCert] : [], minimumtls: 'tls1.2', letsencrypt: undefined };
};

describe('skopeo with credentials over TLS', () => {
  const gate = requireClients('skopeo', 'openssl');
  let pki: TestPki;
  let images: LabImages;
  let certDir: string;
  let mtlsCertDir: string;
  before(async () => {
    gate.assertPresent();
    const dir = await tempDir('skopeo-auth');
    pki = makePki(dir);
    images = await buildLabImages(join(dir, 'images'));
    certDir = join(dir, 'certs');
    mtlsCertDir = join(dir, 'certs-mtls');
    mkdirSync(certDir);
    mkdirSync(mtlsCertDir);
    copyFileSync(pki.caCert, join(certDir, 'ca.crt'));
    copyFileSync(pki.caCert, join(mtlsCertDir, 'ca.crt'));
    copyFileSync(pki.clientCert, join(mtlsCertDir, 'client.cert'));
    copyFileSync(pki.clientKey, join(mtlsCertDir, 'client.key'));
  });

  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args]);

  for (const mode of ['basic', 'token'] as const) {
    it(`pushes and pulls with --creds against ${mode === 'basic' ? 'htpasswd' : 'token'} auth; wrong or missing credentials are refused`, { skip: gate.skip }, async () => {
      const reg = await startAuthRegistry(mode, {}, { configure: tlsWith(pki, false) });
      try {
        await reg.store.addUser('bob', PASSWORD);
        await reg.store.addProject('team');
        await reg.store.setMember('team', 'bob', 'maintainer');
        const ref = `docker://${reg.host}/team/tiny:v1`;
        const push = await skopeo('copy', '--dest-cert-dir', certDir, '--dest-creds', `bob:${PASSWORD}`, images.oci('tiny'), ref);
        assert.equal(push.code, 0, push.out);
        const inspect = await skopeo('inspect', '--raw', '--cert-dir', certDir, '--creds', `bob:${PASSWORD}`, ref);
        assert.equal(inspect.code, 0, inspect.out);
        const wrong = await skopeo('inspect', '--raw', '--cert-dir', certDir, '--creds', 'bob:wrong-password', ref);
        assert.notEqual(wrong.code, 0);
        assert.match(wrong.out, /unauthorized|authentication required|invalid/i);
        const anonymous = await skopeo('inspect', '--raw', '--cert-dir', certDir, '--no-creds', ref);
        assert.notEqual(anonymous.code, 0);
        const overwrite = await skopeo('copy', '--dest-cert-dir', certDir, '--dest-creds', 'bob:wrong-password', images.oci('multiarch'), ref, '--all');
        assert.notEqual(overwrite.code, 0);
        const digest = await skopeo('inspect', '--format', '{{.Digest}}', '--cert-dir', certDir, '--creds', `bob:${PASSWORD}`, ref);
        assert.equal(digest.out.trim().split('\n')[0], images.digest('tiny'), 'the refused push changed nothing');
      } finally {
        await reg.close();
      }
    });
  }

  it('with mutual TLS: works with the client certificate, fails without it', { skip: gate.skip }, async () => {
    const reg = await startAuthRegistry('basic', {}, { configure: tlsWith(pki, true) });
    try {
      const ref = `docker://${reg.host}/team/tiny:v1`;
      const push = await skopeo('copy', '--dest-cert-dir', mtlsCertDir, '--dest-creds', `alice:${PASSWORD}`, images.oci('tiny'), ref);
      assert.equal(push.code, 0, push.out);
      const without = await skopeo('inspect', '--raw', '--cert-dir', certDir, '--creds', `alice:${PASSWORD}`, ref);
      assert.notEqual(without.code, 0);
      assert.match(without.out, /certificate|tls|handshake/i);
    } finally {
      await reg.close();
    }
  });
});

interface LabCase { client: string; script: string; commands: string[]; mode: 'basic' | 'token' }

const LAB_CLIENTS = [
  { client: 'docker', script: 'client-docker.sh', commands: ['dockerd', 'docker', 'skopeo'] },
  { client: 'podman', script: 'client-podman.sh', commands: ['podman', 'skopeo'] },
  { client: 'containerd', script: 'client-containerd.sh', commands: ['containerd', 'ctr', 'skopeo'] },
];
// Every client against both kinds of authentication.
const LAB_CASES: LabCase[] = LAB_CLIENTS.flatMap((c) => (['basic', 'token'] as const).map((mode) => ({ ...c, mode })));

for (const c of LAB_CASES) {
  describe(`${c.client} (lab script) with ${c.mode === 'basic' ? 'htpasswd' : 'token'} auth over TLS`, () => {
    const gate = requireClients(...c.commands, 'openssl');
    let reg: AuthRegistry;
    let pki: TestPki;
    let labTmp: string;
    before(async () => {
      gate.assertPresent();
      labTmp = await tempDir(`lab-${c.client}`);
      pki = makePki(labTmp);
      reg = await startAuthRegistry(c.mode, {}, { configure: tlsWith(pki, false) });
      // The lab scripts push to lab/NAME and delete: a private project with a maintainer.
      await reg.store.addUser('carl', PASSWORD);
      await reg.store.addProject('lab');
      await reg.store.setMember('lab', 'carl', 'maintainer');
    });
    after(async () => reg?.close());

    it(`passes every check of ${c.script}`, { skip: gate.skip, timeout: 900_000 }, async () => {
      const user = c.mode === 'basic' ? 'alice' : 'carl';
      const res = await run('bash', [join(LAB_DIR, c.script), reg.host, '--tls', '--ca', pki.caCert, '--user', `${user}:${PASSWORD}`],
        { ...process.env, LAB_TMP: labTmp });
      // The lab asserts a quirk of Go's TLS server (a plain-HTTP request answered `400`) for ctr's
      // direct pulls, which ctr 1.6 sends as plain HTTP to 127.0.0.1; Node's TLS server closes
      // the connection instead. Either way the direct pull cannot work; hosts-dir pulls are checked.
      // With token auth, dockerd's refused mirror pull (anonymous, private project) logs
      // "denied: requested access to the resource is denied", not the "no basic auth credentials"
      // the lab greps for, which Docker prints only for Basic challenges; token.test.ts asserts the
      // refusal of anonymous pulls from private projects directly.
      const basicOnly = (l: string) => c.mode === 'token' && /mirror pull without docker\.io creds is refused/.test(l);
      const failed = res.out.split('\n').filter((l) => l.startsWith('FAIL') && !/localhost quirk/.test(l) && !basicOnly(l));
      assert.deepEqual(failed, [], res.out.slice(-6000));
      assert.ok(res.out.split('\n').some((l) => l.startsWith('PASS')), 'the script ran checks');
    });
  });
}
