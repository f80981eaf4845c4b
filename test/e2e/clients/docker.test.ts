// The Docker engine (Debian's docker.io, a private dockerd) against the real `berth serve`:
// push of a loaded image (real upload) and of a re-tagged one (cross-repository mount), pull
// by tag and by digest, the multi-arch index (host platform and --platform linux/arm64), and
// Berth as a docker.io mirror through daemon.json `registry-mirrors`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from '../support/berth-process.js';
import { startDockerd, type DockerdProcess } from '../support/dockerd-process.js';
import { removeDir, requireClients, tempDir } from '../support/env.js';
import { type LabImages } from '../support/images.js';
import { sharedLabImages } from '../support/shared-images.js';
import { copy, inspectConfig, inspectRaw, sha256Of } from '../support/skopeo.js';

const gate = requireClients('dockerd', 'docker', 'skopeo');

it('has the clients it drives installed (dockerd, docker, skopeo)', { skip: gate.skip }, () => gate.assertPresent());

describe('Docker (dockerd) against berth serve', { skip: gate.skip }, () => {
  let images: LabImages;
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  let dockerd: DockerdProcess | undefined;
  let host: string;

  async function inspect(ref: string, format: string): Promise<string> {
    return (await dockerd!.mustDocker(['image', 'inspect', '-f', format, ref])).trim();
  }

  /** Asserts that docker recorded `want` among the RepoDigests of `ref` (one per repository it came from). */
  async function assertRepoDigest(ref: string, want: string): Promise<void> {
    const got = JSON.parse(await inspect(ref, '{{json .RepoDigests}}')) as string[];
    assert.ok(got.includes(want), `RepoDigests of ${ref}: ${got.join(', ')} lack ${want}`);
  }

  /** Pulls afresh (the local copy is removed first); returns `docker pull`'s output. */
  async function pull(ref: string, ...flags: string[]): Promise<string> {
    await dockerd!.docker(['rmi', '-f', ref]);
    return dockerd!.mustDocker(['pull', ...flags, ref]);
  }

  /** `docker push`, returning the digest it reports. */
  async function push(ref: string): Promise<string> {
    const out = await dockerd!.mustDocker(['push', ref]);
    const m = /digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(out);
    assert.ok(m, `docker push printed a digest:\n${out}`);
    return m[1]!;
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('docker');
    images = await sharedLabImages();
    berth = await startBerth({ root: join(work, 'storage') });
    host = berth.host;
    for (const name of ['tiny', 'multilayer']) await copy(images.oci(name), `docker://${host}/lab/${name}:v1`);
    await copy(images.oci('multiarch'), `docker://${host}/lab/multiarch:v1`, { all: true });
    dockerd = await startDockerd({ dir: join(work, 'docker'), insecureRegistries: [host], registryMirrors: [`http://${host}`] });
  });
  after(async () => {
    await dockerd?.stop();
    await berth?.stop();
    await removeDir(work);
  });

  it('pulls by tag, with the manifest digest as RepoDigest, and the files in place', async () => {
    const ref = `${host}/lab/tiny:v1`;
    await pull(ref);
    await assertRepoDigest(ref, `${host}/lab/tiny@${images.digest('tiny')}`);
    const cid = (await dockerd!.mustDocker(['create', ref, '/hello.txt'])).trim();
    try {
      const tar = await dockerd!.mustDocker(['cp', `${cid}:/hello.txt`, '-']);
      assert.match(tar, /registry lab/, 'hello.txt from the pulled layer');
    } finally {
      await dockerd!.docker(['rm', cid]);
    }

    const multi = `${host}/lab/multilayer:v1`;
    await pull(multi);
    await assertRepoDigest(multi, `${host}/lab/multilayer@${images.digest('multilayer')}`);
    assert.equal(JSON.parse(await inspect(multi, '{{json .RootFS.Layers}}')).length, 5);
  });

  it('pulls by digest', async () => {
    const ref = `${host}/lab/tiny@${images.digest('tiny')}`;
    await dockerd!.docker(['rmi', '-f', `${host}/lab/tiny:v1`]);
    await pull(ref);
    await assertRepoDigest(ref, ref);
    // The image ID is the digest of the config blob the manifest names.
    const manifest = JSON.parse((await inspectRaw(`docker://${ref}`)).toString('utf8')) as { config: { digest: string } };
    assert.equal(await inspect(ref, '{{.Id}}'), manifest.config.digest);
  });

  it('pulls the multi-arch index: the host platform, and linux/arm64 on request', async () => {
    const ref = `${host}/lab/multiarch:v1`;
    await pull(ref);
    await assertRepoDigest(ref, `${host}/lab/multiarch@${images.digest('multiarch')}`);
    assert.equal(await inspect(ref, '{{.Architecture}}'), 'amd64');
    await pull(ref, '--platform', 'linux/arm64');
    assert.equal(await inspect(ref, '{{.Architecture}}'), 'arm64');
  });

  it('pushes a loaded image (every blob uploaded) and pulls it back by the pushed digest', async () => {
    const loaded = await dockerd!.mustDocker(['load', '-i', images.dockerArchive('tiny')]);
    assert.match(loaded, /Loaded image: lab\/tiny:v1/);
    const ref = `${host}/docker/loaded:v1`;
    await dockerd!.mustDocker(['tag', 'lab/tiny:v1', ref]);
    const digest = await push(ref);
    const raw = await inspectRaw(`docker://${ref}`);
    assert.equal(sha256Of(raw), digest, 'Berth serves exactly the manifest docker pushed');
    assert.equal(JSON.parse(raw.toString('utf8')).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.deepEqual(await inspectConfig(`docker://${ref}`), await inspectConfig(`docker-archive:${images.dockerArchive('tiny')}`));

    await dockerd!.mustDocker(['rmi', '-f', ref, 'lab/tiny:v1']);
    await pull(`${host}/docker/loaded@${digest}`);
    await assertRepoDigest(`${host}/docker/loaded@${digest}`, `${host}/docker/loaded@${digest}`);
  });

  it('pushes a re-tagged multi-layer image to another repository (cross-repository mount)', async () => {
    const src = `${host}/lab/multilayer:v1`;
    if ((await dockerd!.docker(['image', 'inspect', src])).code !== 0) await pull(src);
    const ref = `${host}/docker/nested/copy:v2`;
    await dockerd!.mustDocker(['tag', src, ref]);
    const out = await dockerd!.mustDocker(['push', ref]);
    assert.equal((out.match(/Mounted from lab\/multilayer/g) ?? []).length, 5, `every layer mounted, none uploaded:\n${out}`);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)![1]!;
    assert.equal(sha256Of(await inspectRaw(`docker://${ref}`)), digest);
    await dockerd!.mustDocker(['rmi', ref]);
    await pull(`${host}/docker/nested/copy@${digest}`);
    assert.equal(JSON.parse(await inspect(`${host}/docker/nested/copy@${digest}`, '{{json .RootFS.Layers}}')).length, 5);
  });

  it('pulls docker.io images from Berth as registry-mirrors', async () => {
    // From an empty image store, so every blob comes from the mirror (docker.io is unreachable).
    await dockerd!.mustDocker(['image', 'prune', '-af']);
    assert.equal((await dockerd!.mustDocker(['images', '-q'])).trim(), '');
    await pull('lab/tiny:v1');
    await assertRepoDigest('lab/tiny:v1', `lab/tiny@${images.digest('tiny')}`);
    // A one-component name is docker.io/library/NAME: the mirror is asked for library/NAME.
    await copy(images.oci('tiny'), `docker://${host}/library/tiny:v1`);
    await pull('tiny:v1');
    await assertRepoDigest('tiny:v1', `tiny@${images.digest('tiny')}`);
    await pull('lab/multiarch:v1');
    await assertRepoDigest('lab/multiarch:v1', `lab/multiarch@${images.digest('multiarch')}`);
  });
});
