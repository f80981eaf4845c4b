// dockerd with the `registry-mirrors` and `insecure-registries` that `berth configure docker
// --mirror-of docker.io` writes, pointing at Berth: docker.io pulls arrive as /v2/library/<name>
// with neither ns nor prefix, and go to Berth's root upstream (an authenticated docker-registry
// standing in for Docker Hub). Second pulls never reach the upstream; with the upstream stopped
// a cached image still pulls and an uncached one fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDockerd, type DockerdProcess } from '../e2e/support/dockerd-process.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import type { LabImages } from '../e2e/support/images.js';
import { runBerth } from '../support/cli.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { assertFallbackTrapped, startLoopbackTrap, type LoopbackTrap } from './support/loopback-trap.js';
import { assertFetchedOnce, markRepeatedPull, startCountingUpstream, startMirrorBerth, UPSTREAM_NAME, type CountingUpstream, type MirrorBerth } from './support/clients-mirror.js';

const gate = requireClients('dockerd', 'docker', 'skopeo', 'docker-registry', 'htpasswd');

it('has the clients it drives installed (dockerd, docker, skopeo, docker-registry, htpasswd)', { skip: gate.skip }, () => gate.assertPresent());

describe('dockerd through berth as the registry-mirrors berth configure writes (root upstream)', { skip: gate.skip, timeout: 600_000 }, () => {
  let images: LabImages;
  let work: string | undefined;
  let upstream: CountingUpstream | undefined;
  let berth: MirrorBerth | undefined;
  let dockerd: DockerdProcess | undefined;
  let trap: LoopbackTrap | undefined;

  async function repoDigest(ref: string): Promise<string> {
    return (await dockerd!.mustDocker(['image', 'inspect', '-f', '{{join .RepoDigests " "}}', ref])).trim();
  }

  /** Removes every image (so every blob comes again), then pulls `ref`. */
  async function pull(ref: string) {
    await dockerd!.mustDocker(['image', 'prune', '-af']);
    return dockerd!.docker(['pull', '-q', ref], 180_000);
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('proxy-docker');
    images = await sharedLabImages();
    upstream = await startCountingUpstream(work);
    await upstream.seed(images.oci('tiny'), 'library/tiny:v1');
    await upstream.seed(images.oci('tiny'), 'library/uncached:v1');
    berth = await startMirrorBerth(work, upstream.host);
    const configured = join(work, 'configured');
    const r = await runBerth(['configure', 'docker', '--registry', berth.host, '--mirror-of', 'docker.io', '--insecure', '--root', configured]);
    assert.equal(r.code, 0, r.stderr);
    const daemonJson = JSON.parse(await readFile(join(configured, 'etc', 'docker', 'daemon.json'), 'utf8')) as Record<string, string[]>;
    assert.deepEqual(daemonJson, { 'insecure-registries': [berth.host], 'registry-mirrors': [`http://${berth.host}`] });
    // startDockerd writes its own daemon.json (private sockets and roots): it gets these two keys.
    // dockerd falls back to docker.io itself when the mirror fails: the trap keeps that on loopback.
    trap = await startLoopbackTrap();
    dockerd = await startDockerd({
      dir: join(work, 'docker'), insecureRegistries: daemonJson['insecure-registries'], registryMirrors: daemonJson['registry-mirrors'], env: trap.env,
    });
  });
  after(async () => {
    await dockerd?.stop();
    await berth?.stop();
    await upstream?.stop();
    await trap?.stop();
    await removeDir(work);
  });

  it('pulls tiny:v1 (docker.io/library/tiny) through the mirror, from the upstream once', async () => {
    const r = await pull('tiny:v1');
    assert.equal(r.code, 0, `docker pull failed:\n${r.stderr.slice(-3000)}\n${berth!.logs()}`);
    assert.equal(await repoDigest('tiny:v1'), `tiny@${images.digest('tiny')}`);
    assertFetchedOnce(upstream!);
  });

  it('pulls it again, after removing it from docker, without touching the upstream', async () => {
    const repeated = markRepeatedPull(upstream!, berth!);
    const r = await pull('tiny:v1');
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.equal(await repoDigest('tiny:v1'), `tiny@${images.digest('tiny')}`);
    repeated('library/tiny');
  });

  it('with the upstream stopped, still pulls the cached image and fails an uncached one', async () => {
    await upstream!.stop();
    const cached = await pull('tiny:v1');
    assert.equal(cached.code, 0, `cached image from a stopped upstream:\n${cached.stderr.slice(-3000)}`);
    assert.equal(await repoDigest('tiny:v1'), `tiny@${images.digest('tiny')}`);

    const started = Date.now();
    const uncached = await pull('uncached:v1');
    const ms = Date.now() - started;
    assert.notEqual(uncached.code, 0, 'an uncached image cannot come from a stopped upstream');
    console.log(`# docker: uncached pull with the upstream stopped failed after ${ms} ms: ${uncached.stderr.trim().split('\n').pop()}`);
    console.log(`# dockerd's fallback reached the loopback trap as: ${trap!.seen.join('; ') || '(nothing)'}`);
    assertFallbackTrapped(trap!, uncached.stderr);
    // dockerd falls back to docker.io and reports that failure; what Berth answered the mirror:
    const res = await fetch(`${berth!.url}/v2/library/uncached/manifests/v1`, {
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    });
    const body = await res.text();
    console.log(`# berth answered ${res.status}: ${body}`);
    assert.ok(res.status >= 400, `status ${res.status}`);
    assert.match(body, new RegExp(`${UPSTREAM_NAME}|${upstream!.host.replace(/\./g, '\\.')}`), `the error names the upstream: ${body}`);
  });
});
