// containerd's `ctr` pulling docker.io/library/<image> through Berth as the docker.io mirror of
// the hosts.toml `berth configure containerd --mirror-of docker.io` writes (containerd adds
// ?ns=docker.io, so the prefix given to configure stays out of it), Berth pulling through from an authenticated
// docker-registry standing in for Docker Hub: the second pull never reaches the upstream, and
// with the upstream stopped a cached image still pulls while an uncached one fails, naming it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startContainerd, type ContainerdProcess } from '../e2e/support/containerd-process.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import type { LabImages } from '../e2e/support/images.js';
import { runBerth } from '../support/cli.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { assertFetchedOnce, markRepeatedPull, startCountingUpstream, startMirrorBerth, UPSTREAM_NAME, type CountingUpstream, type MirrorBerth } from './support/clients-mirror.js';
import { parse as parseToml } from 'smol-toml';

const gate = requireClients('containerd', 'ctr', 'skopeo', 'docker-registry', 'htpasswd');

it('has the clients it drives installed (containerd, ctr, skopeo, docker-registry, htpasswd)', { skip: gate.skip }, () => gate.assertPresent());

describe('ctr through berth as the docker.io mirror berth configure writes (hosts.toml, ?ns=docker.io)', { skip: gate.skip, timeout: 600_000 }, () => {
  let images: LabImages;
  let work: string | undefined;
  let upstream: CountingUpstream | undefined;
  let berth: MirrorBerth | undefined;
  let containerd: ContainerdProcess | undefined;
  let hostsDir: string;

  async function digestOf(ref: string): Promise<string | undefined> {
    const out = await containerd!.mustCtr(['images', 'ls']);
    for (const line of out.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[0] === ref) return cols[2];
    }
    return undefined;
  }

  /** Removes `ref` and its content (rm --sync runs containerd's GC), then pulls it through the mirror. */
  async function pull(ref: string) {
    await containerd!.ctr(['images', 'rm', '--sync', ref]);
    return containerd!.ctr(['images', 'pull', '--snapshotter', 'native', '--hosts-dir', hostsDir, ref], 120_000);
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('proxy-ctr');
    images = await sharedLabImages();
    upstream = await startCountingUpstream(work);
    await upstream.seed(images.oci('tiny'), 'library/tiny:v1');
    await upstream.seed(images.oci('tiny'), 'library/uncached:v1');
    berth = await startMirrorBerth(work, upstream.host);
    containerd = await startContainerd(join(work, 'containerd'));
    const configured = join(work, 'configured');
    const r = await runBerth(['configure', 'containerd', '--registry', `${berth.host}/${UPSTREAM_NAME}`, '--mirror-of', 'docker.io', '--insecure', '--root', configured]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /containerd sends \?ns=docker\.io/);
    hostsDir = join(configured, 'etc', 'containerd', 'certs.d');
    const hostsToml = join(hostsDir, 'docker.io', 'hosts.toml');
    const written = await readFile(hostsToml, 'utf8');
    assert.deepEqual(JSON.parse(JSON.stringify(parseToml(written))).host, { [`http://${berth.host}`]: { capabilities: ['pull', 'resolve'] } }, written);
    // The one line changed: containerd falls back to `server` when the mirror fails, and the
    // configured Docker Hub would take the stopped-upstream test to the internet.
    assert.match(written, /^server = "https:\/\/registry-1\.docker\.io"$/m);
    await writeFile(hostsToml, written.replace(/^server = .*$/m, 'server = "http://127.0.0.1:1"'));
  });
  after(async () => {
    await containerd?.stop();
    await berth?.stop();
    await upstream?.stop();
    await removeDir(work);
  });

  it('pulls docker.io/library/tiny through the mirror, fetching it from the upstream once', async () => {
    const r = await pull('docker.io/library/tiny:v1');
    assert.equal(r.code, 0, `ctr pull failed:\n${r.stderr.slice(-3000)}\n${berth!.logs()}`);
    assert.equal(await digestOf('docker.io/library/tiny:v1'), images.digest('tiny'));
    assertFetchedOnce(upstream!);
  });

  it('pulls it again, after removing it from containerd, without touching the upstream', async () => {
    const repeated = markRepeatedPull(upstream!, berth!);
    const r = await pull('docker.io/library/tiny:v1');
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.equal(await digestOf('docker.io/library/tiny:v1'), images.digest('tiny'));
    repeated('library/tiny');
  });

  it('with the upstream stopped, still pulls the cached image and fails an uncached one naming the upstream', async () => {
    await upstream!.stop();
    const cached = await pull('docker.io/library/tiny:v1');
    assert.equal(cached.code, 0, `cached image from a stopped upstream:\n${cached.stderr.slice(-3000)}`);
    assert.equal(await digestOf('docker.io/library/tiny:v1'), images.digest('tiny'));

    const started = Date.now();
    const uncached = await pull('docker.io/library/uncached:v1');
    const ms = Date.now() - started;
    assert.notEqual(uncached.code, 0, 'an uncached image cannot come from a stopped upstream');
    console.log(`# ctr: uncached pull with the upstream stopped failed after ${ms} ms: ${uncached.stderr.trim().split('\n').pop()}`);
    // What Berth answered the mirror request with (ctr reports only its fallback's failure).
    const res = await fetch(`${berth!.url}/v2/library/uncached/manifests/v1?ns=docker.io`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' },
    });
    const body = await res.text();
    console.log(`# berth answered ${res.status}: ${body}`);
    assert.ok(res.status >= 400, `status ${res.status}`);
    assert.match(body, new RegExp(`${UPSTREAM_NAME}|${upstream!.host.replace(/\./g, '\\.')}`), `the error names the upstream: ${body}`);
  });
});
