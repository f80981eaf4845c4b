// podman and buildah (rootful, vfs storage in a temp dir, their own registries.conf and auth
// file) against the real `berth serve`: pull by tag and platform, push of a pulled and of a
// loaded image, Berth as a docker.io mirror in registries.conf, and images built FROM an image
// in Berth (`buildah from` + commit, `buildah build` of a Containerfile) pushed back to it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from '../support/berth-process.js';
import { removeDir, requireClients, tempDir } from '../support/env.js';
import { type LabImages } from '../support/images.js';
import { mustRun } from '../support/run.js';
import { sharedLabImages } from '../support/shared-images.js';
import { copy, inspectRaw, sha256Of } from '../support/skopeo.js';

const gate = requireClients('podman', 'buildah', 'skopeo');

it('has the clients it drives installed (podman, buildah, skopeo)', { skip: gate.skip }, () => gate.assertPresent());

interface ManifestJson {
  mediaType?: string;
  config: { digest: string };
  layers: { digest: string }[];
}

describe('podman and buildah against berth serve', { skip: gate.skip }, () => {
  let images: LabImages;
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  let host: string;
  let storage: string[];
  let env: Record<string, string>;

  const podman = (args: string[]) => mustRun('podman', [...storage, '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args], { env });
  const buildah = (args: string[]) => mustRun('buildah', [...storage, ...args], { env });

  async function manifestAt(ref: string): Promise<ManifestJson> {
    return JSON.parse((await inspectRaw(`docker://${ref}`)).toString('utf8')) as ManifestJson;
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('podman');
    images = await sharedLabImages();
    berth = await startBerth({ root: join(work, 'storage') });
    host = berth.host;
    for (const name of ['tiny', 'multilayer']) await copy(images.oci(name), `docker://${host}/lab/${name}:v1`);
    await copy(images.oci('multiarch'), `docker://${host}/lab/multiarch:v1`, { all: true });

    storage = ['--root', join(work, 'containers', 'root'), '--runroot', join(work, 'containers', 'run'), '--storage-driver', 'vfs'];
    await mkdir(join(work, 'containers'), { recursive: true });
    const registriesConf = join(work, 'containers', 'registries.conf');
    await writeFile(registriesConf, [
      'unqualified-search-registries = []',
      '[[registry]]',
      `location = "${host}"`,
      'insecure = true',
      '[[registry]]',
      'location = "docker.io"',
      '[[registry.mirror]]',
      `location = "${host}"`,
      'insecure = true',
      '',
    ].join('\n'));
    const authFile = join(work, 'containers', 'auth.json');
    await writeFile(authFile, '{}');
    env = { CONTAINERS_REGISTRIES_CONF: registriesConf, REGISTRY_AUTH_FILE: authFile };
  });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('podman pulls by tag with the manifest digest, and one platform of the index', async () => {
    await podman(['pull', '-q', '--tls-verify=false', `${host}/lab/tiny:v1`]);
    assert.equal((await podman(['image', 'inspect', '-f', '{{.Digest}}', `${host}/lab/tiny:v1`])).trim(), images.digest('tiny'));
    const mount = (await podman(['image', 'mount', `${host}/lab/tiny:v1`])).trim();
    try {
      assert.match(await readFile(join(mount, 'hello.txt'), 'utf8'), /registry lab/);
    } finally {
      await podman(['image', 'unmount', `${host}/lab/tiny:v1`]);
    }

    await podman(['pull', '-q', '--tls-verify=false', '--arch', 'arm64', `${host}/lab/multiarch:v1`]);
    assert.equal((await podman(['image', 'inspect', '-f', '{{.Architecture}}', `${host}/lab/multiarch:v1`])).trim(), 'arm64');
    // podman records the digest of what the tag named: the index.
    assert.equal((await podman(['image', 'inspect', '-f', '{{.Digest}}', `${host}/lab/multiarch:v1`])).trim(), images.digest('multiarch'));
  });

  it('podman pushes a pulled multi-layer image and a loaded docker-archive', async () => {
    await podman(['pull', '-q', '--tls-verify=false', `${host}/lab/multilayer:v1`]);
    const digestFile = join(work!, 'pushed.digest');
    await podman(['push', '-q', '--tls-verify=false', '--digestfile', digestFile, `${host}/lab/multilayer:v1`, `docker://${host}/podman/multilayer:v1`]);
    const pushed = await manifestAt(`${host}/podman/multilayer:v1`);
    assert.equal(sha256Of(await inspectRaw(`docker://${host}/podman/multilayer:v1`)), (await readFile(digestFile, 'utf8')).trim());
    assert.deepEqual(pushed.layers.map((l) => l.digest), (await manifestAt(`${host}/lab/multilayer:v1`)).layers.map((l) => l.digest));

    const loaded = await podman(['load', '-i', images.dockerArchive('tiny')]);
    const name = /Loaded image[^:]*: *(\S+)/.exec(loaded)?.[1];
    assert.ok(name, `podman load named the image:\n${loaded}`);
    await podman(['push', '-q', '--tls-verify=false', '--digestfile', digestFile, name, `docker://${host}/podman/loaded:v1`]);
    assert.equal(sha256Of(await inspectRaw(`docker://${host}/podman/loaded:v1`)), (await readFile(digestFile, 'utf8')).trim());
  });

  it('podman pulls docker.io images from Berth as the mirror in registries.conf', async () => {
    await podman(['rmi', '-af']);
    await podman(['pull', '-q', 'docker.io/lab/tiny:v1']);
    assert.equal((await podman(['image', 'inspect', '-f', '{{.Digest}}', 'docker.io/lab/tiny:v1'])).trim(), images.digest('tiny'));
  });

  it('buildah from an image in Berth, commit and push the result', async () => {
    const container = (await buildah(['from', '--tls-verify=false', '--pull-always', `${host}/lab/tiny:v1`])).trim();
    const added = join(work!, 'added.txt');
    await writeFile(added, 'added by buildah\n');
    await buildah(['copy', container, added, '/added.txt']);
    await buildah(['config', '--label', 'berth.test=from', container]);
    await buildah(['commit', '-q', container, `${host}/buildah/from:v1`]);
    await buildah(['rm', container]);
    await buildah(['push', '--tls-verify=false', `${host}/buildah/from:v1`]);

    const base = await manifestAt(`${host}/lab/tiny:v1`);
    const built = await manifestAt(`${host}/buildah/from:v1`);
    assert.equal(built.layers.length, 2, 'the base layer plus the one buildah added');
    assert.equal(built.layers[0]!.digest, base.layers[0]!.digest, 'the base layer is the one in Berth');
  });

  it('buildah build FROM an image in Berth, push, and pull it back with podman', async () => {
    const context = join(work!, 'context');
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'built.txt'), 'built from a berth image\n');
    await writeFile(join(context, 'Containerfile'), [
      `FROM ${host}/lab/multiarch:v1`,
      'COPY built.txt /built.txt',
      'LABEL berth.test=build',
      '',
    ].join('\n'));
    const digestFile = join(work!, 'built.digest');
    await buildah(['build', '-q', '--tls-verify=false', '--pull-always', '-f', join(context, 'Containerfile'), '-t', `${host}/buildah/built:v1`, context]);
    await buildah(['push', '--tls-verify=false', '--digestfile', digestFile, `${host}/buildah/built:v1`]);
    const digest = (await readFile(digestFile, 'utf8')).trim();
    assert.equal(sha256Of(await inspectRaw(`docker://${host}/buildah/built:v1`)), digest);

    // Pulled back from Berth into a clean store: the built file and the base image's are there.
    await podman(['rmi', '-af']);
    await podman(['pull', '-q', '--tls-verify=false', `${host}/buildah/built@${digest}`]);
    const ref = `${host}/buildah/built@${digest}`;
    const mount = (await podman(['image', 'mount', ref])).trim();
    try {
      assert.equal(await readFile(join(mount, 'built.txt'), 'utf8'), 'built from a berth image\n');
      assert.equal(await readFile(join(mount, 'arch.txt'), 'utf8'), 'amd64\n', 'the amd64 base from the index');
    } finally {
      await podman(['image', 'unmount', ref]);
    }
    assert.equal((await podman(['image', 'inspect', '-f', '{{index .Labels "berth.test"}}', ref])).trim(), 'build');
  });
});
