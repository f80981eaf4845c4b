// skopeo against the real `berth serve` binary: OCI layouts (multi-layer image, multi-arch index
// with --all) in and back out with identical digests, inspect --raw, list-tags, docker-archive
// in and out, and delete.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import { startBerth, type BerthProcess } from './support/berth-process.js';
import { removeDir, requireClients, tempDir } from './support/env.js';
import { buildLabImages, layoutBlob, layoutDescriptor, type LabImages } from './support/images.js';
import { copy, deleteImage, inspectConfig, inspectRaw, listTags, sha256Of, skopeoRun } from './support/skopeo.js';

const gate = requireClients('skopeo');

interface ManifestJson {
  mediaType?: string;
  config?: { digest: string };
  layers?: { digest: string; size: number }[];
  manifests?: { digest: string; platform?: { architecture: string } }[];
}

/** Every blob file of an OCI layout hashes to its own name. */
async function assertLayoutIntact(layoutDir: string): Promise<number> {
  const dir = join(layoutDir, 'blobs', 'sha256');
  const names = await readdir(dir);
  for (const hex of names) assert.equal(sha256Of(await readFile(join(dir, hex))), `sha256:${hex}`, `blob ${hex} in ${layoutDir}`);
  return names.length;
}

it('has the client it drives installed (skopeo)', { skip: gate.skip }, () => gate.assertPresent());

describe('skopeo round trip through berth serve', { skip: gate.skip }, () => {
  let images: LabImages;
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  let reg: string;

  before(async () => {
    gate.assertPresent();
    work = await tempDir('skopeo');
    images = await buildLabImages(join(work, 'images'));
    berth = await startBerth({ root: join(work, 'storage'), deleteEnabled: true });
    reg = `docker://${berth.host}`;
  });
  after(async () => {
    await berth?.stop();
    await removeDir(work);
  });

  it('copies the multi-layer OCI image in and back out with the same manifest digest', async () => {
    const want = images.digest('multilayer');
    await copy(images.oci('multilayer'), `${reg}/e2e/multilayer:v1`);
    const raw = await inspectRaw(`${reg}/e2e/multilayer:v1`);
    assert.equal(sha256Of(raw), want, 'inspect --raw digest');
    const source = await layoutBlob(join(images.dir, 'multilayer'), want);
    assert.deepEqual(raw, source, 'the registry serves the manifest byte for byte');
    const manifest = JSON.parse(raw.toString('utf8')) as ManifestJson;
    assert.equal(manifest.layers?.length, 5);

    const out = join(work!, 'out-multilayer');
    await copy(`${reg}/e2e/multilayer:v1`, `oci:${out}:v1`);
    assert.equal((await layoutDescriptor(out, 'v1')).digest, want, 'digest in the fresh layout index.json');
    assert.equal((await layoutDescriptor(join(images.dir, 'multilayer'), 'v1')).digest, want);
    // manifest + config + 5 layers, each intact.
    assert.equal(await assertLayoutIntact(out), 7);
    for (const layer of manifest.layers ?? []) {
      assert.equal((await layoutBlob(out, layer.digest)).length, layer.size, `layer ${layer.digest} size`);
    }
  });

  it('copies the multi-arch index with --all and back, children included', async () => {
    const want = images.digest('multiarch');
    await copy(images.oci('multiarch'), `${reg}/e2e/multiarch:v1`, { all: true });
    const raw = await inspectRaw(`${reg}/e2e/multiarch:v1`);
    assert.equal(sha256Of(raw), want, 'index digest from inspect --raw');
    const index = JSON.parse(raw.toString('utf8')) as ManifestJson;
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests?.map((m) => m.platform?.architecture), ['amd64', 'arm64']);
    for (const child of index.manifests ?? []) {
      const childRaw = await inspectRaw(`${reg}/e2e/multiarch@${child.digest}`);
      assert.equal(sha256Of(childRaw), child.digest, `child ${child.digest} by digest`);
    }

    const out = join(work!, 'out-multiarch');
    await copy(`${reg}/e2e/multiarch:v1`, `oci:${out}:v1`, { all: true });
    assert.equal((await layoutDescriptor(out, 'v1')).digest, want, 'index digest in the fresh layout');
    assert.equal((await layoutDescriptor(join(images.dir, 'multiarch'), 'v1')).digest, want, 'the source layout agrees');
    // index + 2 x (manifest + config + layer), each intact and present.
    assert.equal(await assertLayoutIntact(out), 7);
    for (const child of index.manifests ?? []) {
      const m = JSON.parse((await layoutBlob(out, child.digest)).toString('utf8')) as ManifestJson;
      await layoutBlob(out, m.config!.digest);
      for (const l of m.layers ?? []) await layoutBlob(out, l.digest);
    }
  });

  it('lists tags with skopeo list-tags', async () => {
    await copy(images.oci('tiny'), `${reg}/e2e/tiny:v1`);
    await copy(images.oci('tiny'), `${reg}/e2e/tiny:v2`);
    await copy(`${reg}/e2e/tiny:v1`, `${reg}/e2e/tiny:latest`);
    assert.deepEqual(await listTags(`${reg}/e2e/tiny`), ['latest', 'v1', 'v2']);
    assert.equal(sha256Of(await inspectRaw(`${reg}/e2e/tiny:latest`)), images.digest('tiny'));
    assert.deepEqual(await listTags(`${reg}/e2e/multilayer`), ['v1']);
  });

  it('copies a docker-archive in and out unchanged', async () => {
    const archive = images.dockerArchive('tiny');
    await copy(`docker-archive:${archive}`, `${reg}/e2e/archive:v1`);
    const raw = await inspectRaw(`${reg}/e2e/archive:v1`);
    const head = await fetch(`${berth!.url}/v2/e2e/archive/manifests/v1`, {
      method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), sha256Of(raw), 'Docker-Content-Digest matches the served bytes');
    assert.equal((JSON.parse(raw.toString('utf8')) as ManifestJson).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');

    const out = join(work!, 'archive-out.tar');
    await copy(`${reg}/e2e/archive:v1`, `docker-archive:${out}:e2e/archive:v1`);
    const configIn = await inspectConfig(`docker-archive:${archive}`);
    assert.deepEqual(await inspectConfig(`${reg}/e2e/archive:v1`), configIn, 'config in the registry');
    assert.deepEqual(await inspectConfig(`docker-archive:${out}`), configIn, 'config in the archive written back');
    // The archive manifests (uncompressed layers, as docker-archive stores them) are the same.
    assert.deepEqual(await inspectRaw(`docker-archive:${out}`), await inspectRaw(`docker-archive:${archive}`));
  });

  it('pushes a Docker schema2 conversion and copies registry to registry (cross-repo mount)', async () => {
    await copy(images.oci('tiny'), `${reg}/e2e/tiny-v2s2:v1`, { extra: ['--format', 'v2s2'] });
    const raw = await inspectRaw(`${reg}/e2e/tiny-v2s2:v1`);
    assert.equal((JSON.parse(raw.toString('utf8')) as ManifestJson).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    const byDigest = await fetch(`${berth!.url}/v2/e2e/tiny-v2s2/manifests/${sha256Of(raw)}`, {
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(byDigest.status, 200);
    assert.deepEqual(Buffer.from(await byDigest.arrayBuffer()), raw);

    await copy(`${reg}/e2e/multilayer:v1`, `${reg}/e2e/multilayer-copy:v1`);
    assert.equal(sha256Of(await inspectRaw(`${reg}/e2e/multilayer-copy:v1`)), images.digest('multilayer'));
    await copy(`${reg}/e2e/multiarch:v1`, `${reg}/e2e/multiarch-copy:v1`, { all: true });
    assert.equal(sha256Of(await inspectRaw(`${reg}/e2e/multiarch-copy:v1`)), images.digest('multiarch'));
  });

  it('deletes with skopeo delete, after which inspect fails', async () => {
    await deleteImage(`${reg}/e2e/multilayer:v1`);
    const r = await skopeoRun(['inspect', '--raw', '--tls-verify=false', `${reg}/e2e/multilayer:v1`]);
    assert.notEqual(r.code, 0, 'inspect after delete must fail');
    assert.match(r.stderr, /manifest unknown|not found/i);
    const byDigest = await fetch(`${berth!.url}/v2/e2e/multilayer/manifests/${images.digest('multilayer')}`);
    assert.equal(byDigest.status, 404);
    // Other repositories are untouched, including the copy that shares every blob.
    assert.equal(sha256Of(await inspectRaw(`${reg}/e2e/multiarch:v1`)), images.digest('multiarch'));
    const out = join(work!, 'out-after-delete');
    await copy(`${reg}/e2e/multilayer-copy:v1`, `oci:${out}:v1`);
    assert.equal((await layoutDescriptor(out, 'v1')).digest, images.digest('multilayer'));
    assert.equal(await assertLayoutIntact(out), 7);
  });
});
