// podman with the registries.conf `berth configure podman --registry 127.0.0.1:PORT/dockerhub
// --mirror-of docker.io` writes: a docker.io mirror whose location carries Berth's project
// prefix, so docker.io/library/tiny arrives as dockerhub/library/tiny
// and is pulled through from an authenticated docker-registry standing in for Docker Hub.
// Second pulls never reach the upstream; with the upstream stopped a cached image still pulls
// and an uncached one fails with Berth's error naming the upstream.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import type { LabImages } from '../e2e/support/images.js';
import { runCommand } from '../e2e/support/run.js';
import { runBerth } from '../support/cli.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { assertFallbackTrapped, startLoopbackTrap, type LoopbackTrap } from './support/loopback-trap.js';
import { assertFetchedOnce, markRepeatedPull, startCountingUpstream, startMirrorBerth, UPSTREAM_NAME, type CountingUpstream, type MirrorBerth } from './support/clients-mirror.js';

const gate = requireClients('podman', 'skopeo', 'docker-registry', 'htpasswd');

it('has the clients it drives installed (podman, skopeo, docker-registry, htpasswd)', { skip: gate.skip }, () => gate.assertPresent());

describe('podman through berth as the registries.conf mirror berth configure writes, with a project prefix', { skip: gate.skip, timeout: 600_000 }, () => {
  let images: LabImages;
  let work: string | undefined;
  let upstream: CountingUpstream | undefined;
  let berth: MirrorBerth | undefined;
  let storage: string[];
  let env: Record<string, string>;
  let trap: LoopbackTrap | undefined;

  const podman = (args: string[]) =>
    runCommand('podman', [...storage, '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args], { env, timeoutMs: 180_000 });

  async function digestOf(ref: string): Promise<string> {
    const r = await podman(['image', 'inspect', '-f', '{{.Digest}}', ref]);
    return r.stdout.trim();
  }

  /** Removes `ref` from podman's store, then pulls it. */
  async function pull(ref: string) {
    await podman(['rmi', '-f', ref]);
    return podman(['pull', '-q', ref]);
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('proxy-podman');
    images = await sharedLabImages();
    upstream = await startCountingUpstream(work);
    await upstream.seed(images.oci('tiny'), 'library/tiny:v1');
    await upstream.seed(images.oci('tiny'), 'library/uncached:v1');
    berth = await startMirrorBerth(work, upstream.host);
    storage = ['--root', join(work, 'containers', 'root'), '--runroot', join(work, 'containers', 'run'), '--storage-driver', 'vfs'];
    await mkdir(join(work, 'containers'), { recursive: true });
    // configure merges into what is there: a registries.conf that turns off short-name search.
    const configured = join(work, 'configured-prefix');
    const registriesConf = join(configured, 'etc', 'containers', 'registries.conf');
    await mkdir(join(configured, 'etc', 'containers'), { recursive: true });
    await writeFile(registriesConf, 'unqualified-search-registries = []\n');
    const r = await runBerth(['configure', 'podman', '--registry', `${berth.host}/${UPSTREAM_NAME}`, '--mirror-of', 'docker.io', '--insecure', '--root', configured]);
    assert.equal(r.code, 0, r.stderr);
    const conf = await readFile(registriesConf, 'utf8');
    assert.match(conf, /^unqualified-search-registries = \[\]$/m);
    assert.ok(conf.includes(`[[registry.mirror]]\nlocation = "${berth.host}/${UPSTREAM_NAME}"\ninsecure = true\n`), conf);
    const authFile = join(work, 'containers', 'auth.json');
    await writeFile(authFile, '{}');
    // podman falls back to docker.io itself when the mirror fails: the trap keeps that on loopback.
    trap = await startLoopbackTrap();
    env = { ...trap.env, CONTAINERS_REGISTRIES_CONF: registriesConf, REGISTRY_AUTH_FILE: authFile };
  });
  after(async () => {
    await berth?.stop();
    await upstream?.stop();
    await trap?.stop();
    await removeDir(work);
  });

  it('pulls docker.io/library/tiny through the configured mirror, from the upstream once', async () => {
    const r = await pull('docker.io/library/tiny:v1');
    assert.equal(r.code, 0, `podman pull failed:\n${r.stderr.slice(-3000)}\n${berth!.logs()}`);
    assert.equal(await digestOf('docker.io/library/tiny:v1'), images.digest('tiny'));
    assert.ok(berth!.logs().includes(`/v2/${UPSTREAM_NAME}/library/tiny/manifests/`), 'podman asked the mirror under the prefix');
    assertFetchedOnce(upstream!);
  });

  it('pulls it again, after removing it from podman, without touching the upstream', async () => {
    const repeated = markRepeatedPull(upstream!, berth!);
    const r = await pull('docker.io/library/tiny:v1');
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.equal(await digestOf('docker.io/library/tiny:v1'), images.digest('tiny'));
    repeated('dockerhub/library/tiny');
  });

  it('pulls through the registries.conf `berth configure podman --mirror-of docker.io` writes (no prefix: the root upstream)', async () => {
    const root = join(work!, 'configured');
    const r = await runBerth(['configure', 'podman', '--registry', berth!.host, '--mirror-of', 'docker.io', '--plain-http', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    const saved = env.CONTAINERS_REGISTRIES_CONF!;
    env.CONTAINERS_REGISTRIES_CONF = join(root, 'etc', 'containers', 'registries.conf');
    try {
      const before = upstream!.requests.length;
      const served = berth!.access().length;
      const pulled = await pull('docker.io/library/tiny:v1');
      assert.equal(pulled.code, 0, pulled.stderr.slice(-3000));
      assert.equal(await digestOf('docker.io/library/tiny:v1'), images.digest('tiny'));
      const urls = berth!.access().slice(served).map((a) => a.url);
      assert.ok(urls.some((u) => u.startsWith('/v2/library/tiny/manifests/')), `podman asked Berth without a prefix: ${urls.join(', ')}`);
      assert.deepEqual(upstream!.requests.slice(before), [], 'served from the cache the prefixed pulls filled');
    } finally {
      env.CONTAINERS_REGISTRIES_CONF = saved;
    }
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
    console.log(`# podman: uncached pull with the upstream stopped failed after ${ms} ms: ${uncached.stderr.trim().split('\n').pop()}`);
    console.log(`# podman's fallback reached the loopback trap as: ${trap!.seen.join('; ') || '(nothing)'}`);
    assertFallbackTrapped(trap!, uncached.stderr);
    const res = await fetch(`${berth!.url}/v2/${UPSTREAM_NAME}/library/uncached/manifests/v1`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const body = await res.text();
    console.log(`# berth answered ${res.status}: ${body}`);
    assert.ok(res.status >= 400, `status ${res.status}`);
    assert.match(body, new RegExp(`${UPSTREAM_NAME}|${upstream!.host.replace(/\./g, '\\.')}`), `the error names the upstream: ${body}`);
  });
});
