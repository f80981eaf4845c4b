// Enforcement as real clients see it: skopeo and docker pull from a policy-protected repository
// (unsigned refused with the registry's message shown to the user; signed by `berth sign`
// served), the signing flow (berth sign pushing into the protected repository) is never
// blocked, exempt identities read unsigned images, refusals are audited, audit mode serves.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readAudit } from '../../src/auth/audit.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { sharedLabImages, } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { skopeoRun, skopeo } from '../e2e/support/skopeo.js';
import { startDockerd, type DockerdProcess } from '../e2e/support/dockerd-process.js';
import { runBerth } from '../support/cli.js';
import { PASSWORD, basic, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { makePki, type Pki } from './support/pki.js';

const gate = requireClients('skopeo', 'openssl', 'dockerd', 'docker');
it('has the clients it drives installed (skopeo, openssl, dockerd, docker)', { skip: gate.skip }, () => gate.assertPresent());

describe('enforcement with skopeo, docker and berth sign', { skip: gate.skip }, () => {
  let work: string;
  let pki: Pki;
  let reg: AuthRegistry;
  let images: LabImages;
  let dockerd: DockerdProcess | undefined;
  const alice = `alice:${PASSWORD}`;
  const bob = `bob:${PASSWORD}`;

  before(async () => {
    gate.assertPresent();
    work = await tempDir('trust');
    [pki, images] = await Promise.all([makePki(work), sharedLabImages()]);
    reg = await startAuthRegistry('basic', {}, {
      configure: (c) => {
        c.trust.policies = [
          { name: 'prod', repositories: ['prod/*'], mode: 'enforce', keys: [pki.keys.p256.pub], exempt: ['alice'] },
          { name: 'watch', repositories: ['watch/*'], mode: 'audit', keys: [pki.keys.p256.pub], exempt: [] },
        ];
      },
    });
    // bob: a system administrator (reads everything), not exempt from the policy.
    await reg.store.addUser('bob', PASSWORD, true);
    for (const repo of ['prod/app', 'watch/app']) {
      await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', alice, images.oci('tiny'), `docker://${reg.host}/${repo}:v1`]);
    }
  });
  after(async () => {
    await dockerd?.stop();
    await reg?.close();
    if (work) await removeDir(work);
  });

  const inspect = (repo: string, creds: string) => skopeoRun(['inspect', '--raw', '--tls-verify=false', '--creds', creds, `docker://${reg.host}/${repo}:v1`]);

  it('refuses skopeo an unsigned image with the policy named, but serves the exempt signer', async () => {
    const refused = await inspect('prod/app', bob);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied/i);
    // skopeo quotes the registry's message with escaped quotes.
    assert.match(refused.stderr, /policy \\?"prod\\?" requires a valid signature on prod\/app@sha256:/);
    assert.equal((await inspect('prod/app', alice)).code, 0, 'alice is exempt');
    const audit = await readAudit(reg.server.auth!.meta.db, { action: 'trust.refused' });
    assert.ok(audit.some((a) => a.actor === 'bob' && a.target.startsWith('prod/app@sha256:')), JSON.stringify(audit));
  });

  it('refuses docker pull with the registry\'s message, then serves it once berth sign has signed it', async () => {
    dockerd = await startDockerd({ dir: join(work, 'docker'), insecureRegistries: [reg.host] });
    await dockerd.mustDocker(['login', '-u', 'bob', '-p', PASSWORD, reg.host]);
    const refused = await dockerd.docker(['pull', `${reg.host}/prod/app:v1`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /policy "prod" requires a valid signature/);
    // The signer pushes its signature into the protected repository: never blocked.
    const signed = await runBerth(['sign', '--creds', alice, '--key', pki.keys.p256.key, `${reg.host}/prod/app:v1`]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /^signed .*prod\/app@sha256:[0-9a-f]{64} \(tag sha256-[0-9a-f]{64}\.sig\)/);
    await dockerd.mustDocker(['pull', `${reg.host}/prod/app:v1`]);
    assert.equal((await inspect('prod/app', bob)).code, 0);
  });

  it('berth verify prints the same verdict, and the admin API shows it', async () => {
    const ok = await runBerth(['verify', '--creds', bob, '--key', pki.keys.p256.pub, `${reg.host}/prod/app:v1`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^verified .* cosign signature \(tag\) by key /);
    const wrongKey = await runBerth(['verify', '--creds', bob, '--key', pki.stranger.pub, `${reg.host}/prod/app:v1`]);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stdout, /NOT verified .*verifies with none of the policy's keys/);
    const res = await fetch(`${reg.url}/api/v1/trust/verdict?repository=prod/app&reference=v1`, { headers: { authorization: basic('bob', PASSWORD) } });
    assert.equal(res.status, 200);
    const v = await res.json() as { verified: boolean; policy: string; signer: { by: string } };
    assert.equal(v.verified, true);
    assert.equal(v.policy, 'prod');
    assert.equal(v.signer.by, `key ${pki.keys.p256.pub}`);
  });

  it('berth sign --referrers stores an OCI 1.1 signature that counts', async () => {
    await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', alice, images.oci('tiny'), `docker://${reg.host}/prod/other:v1`]);
    assert.notEqual((await inspect('prod/other', bob)).code, 0);
    const signed = await runBerth(['sign', '--referrers', '--creds', alice, '--key', pki.keys.p256.key, `${reg.host}/prod/other:v1`]);
    assert.equal(signed.code, 0, signed.stderr);
    const verified = await runBerth(['verify', '--json', '--creds', bob, '--key', pki.keys.p256.pub, `${reg.host}/prod/other:v1`]);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    assert.equal((JSON.parse(verified.stdout) as { signer: { via: string } }).signer.via, 'referrers');
  });

  it('serves unsigned images in audit mode and writes the audit entry', async () => {
    assert.equal((await inspect('watch/app', bob)).code, 0);
    const audit = await readAudit(reg.server.auth!.meta.db, { action: 'trust.served' });
    assert.ok(audit.some((a) => a.actor === 'bob' && a.target.startsWith('watch/app@sha256:')), JSON.stringify(audit));
  });
});
