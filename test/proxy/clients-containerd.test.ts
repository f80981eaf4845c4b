// containerd's `ctr` pulling docker.io/library/<image> through Berth as the docker.io mirror of
// the hosts.toml `berth configure containerd --mirror-of docker.io` writes (containerd adds
// ?ns=docker.io, so the prefix given to configure stays out of it). The assertions are the
// client-mirror suite's (test/suites/client-mirror.suite.ts); this file is containerd's adapter.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { startContainerd, type ContainerdProcess } from '../e2e/support/containerd-process.js';
import { runBerth } from '../support/cli.js';
import { clientMirrorSuite } from '../suites/client-mirror.suite.js';
import { UPSTREAM_NAME } from './support/clients-mirror.js';

let containerd: ContainerdProcess | undefined;
let hostsDir: string;

clientMirrorSuite({
  name: 'ctr',
  requires: ['containerd', 'ctr', 'skopeo', 'docker-registry', 'htpasswd'],
  title: 'ctr through berth as the docker.io mirror berth configure writes (hosts.toml, ?ns=docker.io)',
  trap: false,
  ref: (image) => `docker.io/library/${image}:v1`,
  expectedDigest: (_image, digest) => digest,
  localRepository: 'library/tiny',
  uncachedRequest: {
    path: '/v2/library/uncached/manifests/v1?ns=docker.io',
    accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json',
  },
  async setup({ work, berth }) {
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
  },
  stop: async () => containerd?.stop(),
  /** Removes `ref` and its content (rm --sync runs containerd's GC), then pulls it through the mirror. */
  async pull(ref) {
    await containerd!.ctr(['images', 'rm', '--sync', ref]);
    return containerd!.ctr(['images', 'pull', '--snapshotter', 'native', '--hosts-dir', hostsDir, ref], 120_000);
  },
  async digestOf(ref) {
    const out = await containerd!.mustCtr(['images', 'ls']);
    for (const line of out.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[0] === ref) return cols[2];
    }
    return undefined;
  },
});
