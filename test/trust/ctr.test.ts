// Enforcement as containerd's `ctr` sees it (pulls through --hosts-dir, as a user the policy
// does not exempt): an unsigned image is refused with the policy's message in the error ctr
// prints (ctr resolves by HEAD, so the message travels in the status line's reason phrase);
// the same image signed with `berth sign` by an exempt signer is pulled and unpacked.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { skopeo } from '../e2e/support/skopeo.js';
import { startContainerd, type ContainerdProcess } from '../e2e/support/containerd-process.js';
import { PASSWORD, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { runBerth } from '../support/cli.js';
import { makePki, type Pki } from './support/pki.js';

const gate = requireClients('containerd', 'ctr', 'skopeo', 'openssl');
it('has the clients it drives installed (containerd, ctr, skopeo, openssl)', { skip: gate.skip }, () => gate.assertPresent());

describe('enforcement with ctr --hosts-dir', { skip: gate.skip }, () => {
  let work: string;
  let pki: Pki;
  let images: LabImages;
  let reg: AuthRegistry;
  let containerd: ContainerdProcess | undefined;
  let hostsDir: string;

  before(async () => {
    gate.assertPresent();
    work = await tempDir('trust-ctr');
    [pki, images] = await Promise.all([makePki(work), sharedLabImages()]);
    reg = await startAuthRegistry('basic', {}, {
      configure: (c) => {
        c.trust.policies = [{ name: 'prod', repositories: ['prod/*'], mode: 'enforce', keys: [pki.keys.p256.pub], exempt: ['alice'] }];
      },
    });
    // bob reads everything (a system administrator) and is not exempt; alice signs.
    await reg.store.addUser('bob', PASSWORD, true);
    for (const repo of ['prod/unsigned', 'prod/signed']) {
      await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', `alice:${PASSWORD}`, images.oci('tiny'), `docker://${reg.host}/${repo}:v1`]);
    }
    containerd = await startContainerd(join(work, 'containerd'), 'berth-trust');
    hostsDir = join(work, 'hosts.d');
    await mkdir(join(hostsDir, reg.host), { recursive: true });
    await writeFile(join(hostsDir, reg.host, 'hosts.toml'), [
      `server = "http://${reg.host}"`,
      `[host."http://${reg.host}"]`,
      '  capabilities = ["pull", "resolve"]',
      '',
    ].join('\n'));
  });
  after(async () => {
    await containerd?.stop();
    await reg?.close();
    await removeDir(work);
  });

  const pull = (ref: string) => containerd!.ctr(['images', 'pull', '--snapshotter', 'native', '--hosts-dir', hostsDir, '--user', `bob:${PASSWORD}`, ref], 120_000);

  it('refuses an unsigned image, and ctr prints the policy and what would satisfy it', async () => {
    const r = await pull(`${reg.host}/prod/unsigned:v1`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /403 Forbidden: policy "prod" requires a valid signature on prod\/unsigned@sha256:[0-9a-f]{64}: no signature found\. Satisfied by a cosign signature verifying with the key /);
    assert.equal((await containerd!.mustCtr(['images', 'ls', '-q'])).includes('prod/unsigned'), false);
  });

  it('pulls and unpacks the image once berth sign has signed it', async () => {
    const ref = `${reg.host}/prod/signed:v1`;
    assert.notEqual((await pull(ref)).code, 0, 'unsigned at first');
    const signed = await runBerth(['sign', '--creds', `alice:${PASSWORD}`, '--key', pki.keys.p256.key, ref]);
    assert.equal(signed.code, 0, signed.stderr);
    const r = await pull(ref);
    assert.equal(r.code, 0, r.stderr);
    const listed = await containerd!.mustCtr(['images', 'ls']);
    const line = listed.split('\n').find((l) => l.startsWith(`${ref} `));
    assert.ok(line?.includes(images.digest('tiny')), listed);
    assert.match(await containerd!.mustCtr(['images', 'check']), new RegExp(`prod/signed:v1\\s.*complete \\(2/2\\)`));
  });
});
