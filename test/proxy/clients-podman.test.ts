// podman with the registries.conf `berth configure podman --registry 127.0.0.1:PORT/dockerhub
// --mirror-of docker.io` writes: a docker.io mirror whose location carries Berth's project
// prefix, so docker.io/library/tiny arrives as dockerhub/library/tiny; and, without a prefix,
// the root upstream. The shared assertions are the client-mirror suite's
// (test/suites/client-mirror.suite.ts); this file is podman's adapter plus its no-prefix case.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../e2e/support/run.js';
import { runBerth } from '../support/cli.js';
import { clientMirrorSuite } from '../suites/client-mirror.suite.js';
import { UPSTREAM_NAME } from './support/clients-mirror.js';

let storage: string[];
let env: Record<string, string>;

const podman = (args: string[]) =>
  runCommand('podman', [...storage, '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args], { env, timeoutMs: 180_000 });

/** Removes `ref` from podman's store, then pulls it. */
async function pull(ref: string) {
  await podman(['rmi', '-f', ref]);
  return podman(['pull', '-q', ref]);
}

async function digestOf(ref: string): Promise<string> {
  return (await podman(['image', 'inspect', '-f', '{{.Digest}}', ref])).stdout.trim();
}

clientMirrorSuite({
  name: 'podman',
  requires: ['podman', 'skopeo', 'docker-registry', 'htpasswd'],
  title: 'podman through berth as the registries.conf mirror berth configure writes, with a project prefix',
  trap: true,
  ref: (image) => `docker.io/library/${image}:v1`,
  expectedDigest: (_image, digest) => digest,
  localRepository: `${UPSTREAM_NAME}/library/tiny`,
  uncachedRequest: { path: `/v2/${UPSTREAM_NAME}/library/uncached/manifests/v1`, accept: 'application/vnd.oci.image.manifest.v1+json' },
  async setup({ work, berth, trap }) {
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
    env = { ...trap!.env, CONTAINERS_REGISTRIES_CONF: registriesConf, REGISTRY_AUTH_FILE: authFile };
  },
  stop: async () => {},
  pull,
  digestOf,
  afterFirstPull({ berth }) {
    assert.ok(berth.logs().includes(`/v2/${UPSTREAM_NAME}/library/tiny/manifests/`), 'podman asked the mirror under the prefix');
  },
  moreTests(lab) {
    it('pulls through the registries.conf `berth configure podman --mirror-of docker.io` writes (no prefix: the root upstream)', async () => {
      const { work, berth, upstream, images } = lab();
      const root = join(work, 'configured');
      const r = await runBerth(['configure', 'podman', '--registry', berth.host, '--mirror-of', 'docker.io', '--plain-http', '--root', root]);
      assert.equal(r.code, 0, r.stderr);
      const saved = env.CONTAINERS_REGISTRIES_CONF!;
      env.CONTAINERS_REGISTRIES_CONF = join(root, 'etc', 'containers', 'registries.conf');
      try {
        const before = upstream.requests.length;
        const served = berth.access().length;
        const pulled = await pull('docker.io/library/tiny:v1');
        assert.equal(pulled.code, 0, pulled.stderr.slice(-3000));
        assert.equal(await digestOf('docker.io/library/tiny:v1'), images.digest('tiny'));
        const urls = berth.access().slice(served).map((a) => a.url);
        assert.ok(urls.some((u) => u.startsWith('/v2/library/tiny/manifests/')), `podman asked Berth without a prefix: ${urls.join(', ')}`);
        assert.deepEqual(upstream.requests.slice(before), [], 'served from the cache the prefixed pulls filled');
      } finally {
        env.CONTAINERS_REGISTRIES_CONF = saved;
      }
    });
  },
});
