// dockerd with the `registry-mirrors` and `insecure-registries` that `berth configure docker
// --mirror-of docker.io` writes, pointing at Berth: docker.io pulls arrive as /v2/library/<name>
// with neither ns nor prefix, and go to Berth's root upstream. The assertions are the
// client-mirror suite's (test/suites/client-mirror.suite.ts); this file is docker's adapter.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDockerd, type DockerdProcess } from '../e2e/support/dockerd-process.js';
import { runBerth } from '../support/cli.js';
import { clientMirrorSuite } from '../suites/client-mirror.suite.js';

let dockerd: DockerdProcess | undefined;

clientMirrorSuite({
  name: 'docker',
  requires: ['dockerd', 'docker', 'skopeo', 'docker-registry', 'htpasswd'],
  title: 'dockerd through berth as the registry-mirrors berth configure writes (root upstream)',
  trap: true,
  ref: (image) => `${image}:v1`,
  expectedDigest: (image, digest) => `${image}@${digest}`,
  localRepository: 'library/tiny',
  uncachedRequest: {
    path: '/v2/library/uncached/manifests/v1',
    accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
  },
  async setup({ work, berth, trap }) {
    const configured = join(work, 'configured');
    const r = await runBerth(['configure', 'docker', '--registry', berth.host, '--mirror-of', 'docker.io', '--insecure', '--root', configured]);
    assert.equal(r.code, 0, r.stderr);
    const daemonJson = JSON.parse(await readFile(join(configured, 'etc', 'docker', 'daemon.json'), 'utf8')) as Record<string, string[]>;
    assert.deepEqual(daemonJson, { 'insecure-registries': [berth.host], 'registry-mirrors': [`http://${berth.host}`] });
    // startDockerd writes its own daemon.json (private sockets and roots): it gets these two keys.
    // dockerd falls back to docker.io itself when the mirror fails: the trap keeps that on loopback.
    dockerd = await startDockerd({
      dir: join(work, 'docker'), insecureRegistries: daemonJson['insecure-registries'], registryMirrors: daemonJson['registry-mirrors'], env: trap!.env,
    });
  },
  stop: async () => dockerd?.stop(),
  /** Removes every image (so every blob comes again), then pulls `ref`. */
  async pull(ref) {
    await dockerd!.mustDocker(['image', 'prune', '-af']);
    return dockerd!.docker(['pull', '-q', ref], 180_000);
  },
  async digestOf(ref) {
    return (await dockerd!.mustDocker(['image', 'inspect', '-f', '{{join .RepoDigests " "}}', ref])).trim();
  },
});
