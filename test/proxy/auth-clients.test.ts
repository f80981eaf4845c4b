// A real client through access control on a proxied name: `ctr` pulling docker.io/library/tiny
// through Berth as its docker.io mirror (?ns=docker.io, stored as dockerhub/library/tiny) with
// the built-in token server. ctr asks for a token for the name it requested only
// (`repository:library/tiny:pull`), so the stored name is judged from the user's roles: refused,
// without touching the upstream, until the user may pull from project `dockerhub`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startContainerd, type ContainerdProcess } from '../e2e/support/containerd-process.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import type { LabImages } from '../e2e/support/images.js';
import { runBerth } from '../support/cli.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { startCountingUpstream, startMirrorBerth, UPSTREAM_NAME, type CountingUpstream, type MirrorBerth } from './support/clients-mirror.js';

const gate = requireClients('containerd', 'ctr', 'skopeo', 'docker-registry', 'htpasswd');

it('has the clients it drives installed (containerd, ctr, skopeo, docker-registry, htpasswd)', { skip: gate.skip }, () => gate.assertPresent());

describe('ctr through a mirror with the built-in token server: pull rights on the stored name', { skip: gate.skip, timeout: 600_000 }, () => {
  let images: LabImages;
  let work: string | undefined;
  let upstream: CountingUpstream | undefined;
  let berth: MirrorBerth | undefined;
  let containerd: ContainerdProcess | undefined;
  let hostsDir: string;
  let password: string;

  async function berthCli(args: string[]): Promise<string> {
    const r = await runBerth([...args, '-c', berth!.config]);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async function pull(ref: string) {
    await containerd!.ctr(['images', 'rm', '--sync', ref]);
    return containerd!.ctr(['images', 'pull', '--snapshotter', 'native', '--hosts-dir', hostsDir, '--user', `bob:${password}`, ref], 120_000);
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('proxy-auth-ctr');
    images = await sharedLabImages();
    upstream = await startCountingUpstream(work);
    await upstream.seed(images.oci('tiny'), 'library/tiny:v1');
    berth = await startMirrorBerth(work, upstream.host, [], ['auth: {token: {service: berth-mirror, issuer: berth-mirror}}'], true);
    password = (await berthCli(['user', 'add', 'bob'])).trim();
    for (const p of ['library', UPSTREAM_NAME]) await berthCli(['project', 'add', p]);
    await berthCli(['project', 'member', 'library', 'bob', 'guest']);
    containerd = await startContainerd(join(work, 'containerd'));
    const configured = join(work, 'configured');
    const r = await runBerth(['configure', 'containerd', '--registry', berth.host, '--mirror-of', 'docker.io', '--insecure', '--root', configured]);
    assert.equal(r.code, 0, r.stderr);
    hostsDir = join(configured, 'etc', 'containerd', 'certs.d');
    // containerd falls back to `server` when the mirror refuses: keep that on loopback.
    const hostsToml = join(hostsDir, 'docker.io', 'hosts.toml');
    const written = await readFile(hostsToml, 'utf8');
    await writeFile(hostsToml, written.replace(/^server = .*$/m, 'server = "http://127.0.0.1:1"'));
  });
  after(async () => {
    await containerd?.stop();
    await berth?.stop();
    await upstream?.stop();
    await removeDir(work);
  });

  it('refuses bob (pull on library, not on dockerhub) and fetches nothing upstream', async () => {
    const before = upstream!.requests.length;
    const served = berth!.access().length;
    const r = await pull('docker.io/library/tiny:v1');
    assert.notEqual(r.code, 0, 'the pull must be refused');
    console.log(`# ctr refused: ${r.stderr.trim().split('\n').pop()}`);
    const asked = berth!.access().slice(served);
    assert.ok(asked.some((a) => a.url.startsWith('/v2/library/tiny/manifests/v1?ns=docker.io') && a.status === 401), `ctr asked the mirror and was refused: ${JSON.stringify(asked)}`);
    assert.ok(asked.some((a) => a.url.startsWith('/auth/token') && a.status === 200), `ctr got a token from the built-in server: ${JSON.stringify(asked)}`);
    assert.ok(!asked.some((a) => a.url.startsWith('/v2/library/tiny/') && a.status === 200), `nothing served: ${JSON.stringify(asked)}`);
    assert.deepEqual(upstream!.requests.slice(before), [], 'the upstream saw no request');
  });

  it('pulls once bob may pull from dockerhub, with a token naming only library/tiny', async () => {
    await berthCli(['project', 'member', UPSTREAM_NAME, 'bob', 'guest']);
    const served = berth!.access().length;
    const r = await pull('docker.io/library/tiny:v1');
    assert.equal(r.code, 0, `ctr pull failed:\n${r.stderr.slice(-3000)}\n${berth!.logs()}`);
    const tokens = berth!.access().slice(served).filter((a) => a.url.startsWith('/auth/token'));
    assert.ok(tokens.length > 0 && tokens.every((a) => !decodeURIComponent(a.url).includes(`${UPSTREAM_NAME}/`)), `ctr's token scopes name the requested repository only: ${JSON.stringify(tokens)}`);
    assert.ok(upstream!.requests.some((q) => q.startsWith('GET /v2/library/tiny/blobs/')), 'fetched through from the upstream');
  });
});
