// `berth copy`, `save` and `load` with the real binary: a multi-arch image with a signature
// referrer moves between two Berth instances and between Berth and Debian's docker-registry
// with identical digests; OCI layouts and tarballs it writes are read back by skopeo.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { startDistribution, type DistributionProcess } from '../e2e/support/distribution-process.js';
import { buildLabImages, type LabImages } from '../e2e/support/images.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { inspectRaw, skopeo, sha256Of } from '../e2e/support/skopeo.js';
import { artifact, blob, type Manifest } from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { RegistryClient } from '../../src/client/index.js';
import { berthJson, berthOk, runBerth } from '../support/cli.js';

const gate = requireClients('skopeo', 'docker-registry');
const SIG_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

interface CopyJson { digest: string; blobsCopied: number; blobsSkipped: number; blobsMounted: number; referrers: number; manifests: number }

describe('berth copy, save and load', { skip: gate.skip }, () => {
  let work: string;
  let images: LabImages;
  let a: TestRegistry;
  let b: TestRegistry;
  let dist: DistributionProcess;
  let signature: Manifest;

  const referrersOf = async (host: string, repo: string, digest: string) => {
    const c = new RegistryClient({ host, plainHttp: true });
    try {
      return (await c.referrers(repo, digest)).map((d) => d.digest);
    } finally {
      await c.close();
    }
  };

  before(async () => {
    gate.assertPresent();
    work = await tempDir('tools-copy');
    images = await buildLabImages(join(work, 'images'));
    a = await startTestRegistry();
    b = await startTestRegistry({ storage: 'filesystem' });
    dist = await startDistribution({ root: join(work, 'dist'), configDir: work });
    await berthOk(['copy', '--all', '-q', images.oci('multiarch'), `docker://${a.host}/lab/multiarch:v1`]);
    // A signature that refers to the index, as cosign would attach it.
    const index = await inspectRaw(`docker://${a.host}/lab/multiarch:v1`);
    const subject: Manifest = { body: index, digest: sha256Of(index), mediaType: 'application/vnd.oci.image.index.v1+json', json: {} };
    const sigLayer = blob('{"critical":{"identity":{}}}');
    signature = artifact(subject, SIG_TYPE, sigLayer);
    await pushBlob(a.url, 'lab/multiarch', sigLayer);
    await pushBlob(a.url, 'lab/multiarch', blob('{}'));
    await pushManifest(a.url, 'lab/multiarch', signature.digest, signature);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dist?.stop();
    await removeDir(work);
  });

  it('copies the OCI layout into Berth with the digest make-images built', async () => {
    assert.equal(sha256Of(await inspectRaw(`docker://${a.host}/lab/multiarch:v1`)), images.digest('multiarch'));
  });

  it('copies a multi-arch image and its signature between two Berth instances, digests identical', async () => {
    const r = await berthJson<CopyJson>(['copy', '--all', '--referrers', `docker://${a.host}/lab/multiarch:v1`, `docker://${b.host}/lab/multiarch:v1`]);
    assert.equal(r.digest, images.digest('multiarch'));
    assert.equal(r.referrers, 1);
    assert.equal(sha256Of(await inspectRaw(`docker://${b.host}/lab/multiarch:v1`)), images.digest('multiarch'));
    assert.deepEqual(await referrersOf(b.host, 'lab/multiarch', r.digest), [signature.digest]);
  });

  it('copies Berth -> docker-registry -> Berth with the signature kept through the tag-schema fallback', async () => {
    const there = await berthJson<CopyJson>(['copy', '--all', '--referrers', `docker://${a.host}/lab/multiarch:v1`, `docker://${dist.host}/lab/multiarch:v1`]);
    assert.equal(sha256Of(await inspectRaw(`docker://${dist.host}/lab/multiarch:v1`)), images.digest('multiarch'));
    assert.equal(there.referrers, 1);
    // Distribution 2.8 has no referrers API: the client wrote the sha256-<hex> index instead.
    assert.deepEqual(await referrersOf(dist.host, 'lab/multiarch', there.digest), [signature.digest]);
    const back = await berthJson<CopyJson>(['copy', '--all', '--referrers', `docker://${dist.host}/lab/multiarch:v1`, `docker://${b.host}/roundtrip/multiarch:v1`]);
    assert.equal(back.digest, images.digest('multiarch'));
    assert.equal(back.referrers, 1);
    assert.deepEqual(await referrersOf(b.host, 'roundtrip/multiarch', back.digest), [signature.digest]);
  });

  it('mounts blobs across repositories of the same registry instead of copying them', async () => {
    const r = await berthJson<CopyJson>(['copy', '--all', `docker://${a.host}/lab/multiarch:v1`, `docker://${a.host}/mounted/multiarch:v1`]);
    assert.equal(r.blobsCopied, 0);
    assert.equal(r.blobsMounted, 4);
    assert.equal(sha256Of(await inspectRaw(`docker://${a.host}/mounted/multiarch:v1`)), images.digest('multiarch'));
  });

  it('skips what the destination already has, so a second run resumes an interrupted copy', async () => {
    const first = await berthJson<CopyJson>(['copy', '--platform', 'linux/amd64', `docker://${a.host}/lab/multiarch:v1`, `docker://${b.host}/resume/multiarch:amd64`]);
    assert.equal(first.blobsCopied, 2);
    const second = await berthJson<CopyJson>(['copy', '--all', '--jobs', '2', `docker://${a.host}/lab/multiarch:v1`, `docker://${b.host}/resume/multiarch:v1`]);
    assert.equal(second.blobsSkipped, 0, 'the amd64 child manifest is present, so its blobs are not even asked about');
    assert.equal(second.blobsCopied, 2, 'only the arm64 blobs move');
    assert.equal(sha256Of(await inspectRaw(`docker://${b.host}/resume/multiarch:v1`)), images.digest('multiarch'));
  });

  it('writes an OCI layout and an OCI archive that skopeo reads with the same digest', async () => {
    const layout = join(work, 'layout');
    await berthOk(['copy', '--all', '-q', `docker://${a.host}/lab/multiarch:v1`, `oci:${layout}:v1`]);
    assert.equal(sha256Of(await skopeo(['inspect', '--raw', `oci:${layout}:v1`])), images.digest('multiarch'));
    await skopeo(['copy', '--all', '-q', `oci:${layout}:v1`, `oci:${join(work, 'layout-by-skopeo')}:v1`]);
    const archive = join(work, 'multiarch.oci.tar');
    await berthOk(['copy', '--all', '-q', `docker://${a.host}/lab/multiarch:v1`, `oci-archive:${archive}:v1`]);
    assert.equal(sha256Of(await skopeo(['inspect', '--raw', `oci-archive:${archive}:v1`])), images.digest('multiarch'));
    const back = await berthJson<CopyJson>(['copy', '--all', `oci-archive:${archive}:v1`, `docker://${b.host}/from-archive/multiarch:v1`]);
    assert.equal(back.digest, images.digest('multiarch'));
  });

  it('saves a docker-archive that skopeo reads, and loads it into another registry', async () => {
    const tar = join(work, 'saved.tar');
    await berthOk(['save', '-q', '--platform', 'linux/arm64', `${a.host}/lab/multiarch:v1`, `${a.host}/mounted/multiarch:v1`, '-o', tar]);
    const config = await skopeo(['inspect', '--config', '--raw', `docker-archive:${tar}:@0`]);
    assert.equal(JSON.parse(config.toString('utf8')).architecture, 'arm64');
    const loaded = await berthJson<{ images: Array<{ image: string; destination: string }> }>(['load', tar, '--to', `${b.host}/loaded`]);
    assert.equal(loaded.images.length, 2);
    const armConfig = await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${b.host}/loaded/lab/multiarch:v1`]);
    assert.deepEqual(armConfig, config);
    assert.ok(loaded.images.some((i) => i.destination.endsWith('/loaded/mounted/multiarch:v1')));
  });

  it('copies a docker-archive made by skopeo into a registry', async () => {
    const tar = images.dockerArchive('tiny');
    const r = await berthJson<CopyJson>(['copy', `docker-archive:${tar}`, `docker://${b.host}/from-docker-archive/tiny:v1`]);
    const fromTar = await skopeo(['inspect', '--config', '--raw', `docker-archive:${tar}`]);
    const fromRegistry = await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${b.host}/from-docker-archive/tiny:v1`]);
    assert.deepEqual(fromRegistry, fromTar);
    assert.ok(r.blobsCopied >= 2);
  });

  it('pushes in PATCH chunks with --chunk-size, digests identical', async () => {
    const r = await berthJson<CopyJson>(['copy', '--chunk-size', '64', images.oci('tiny'), `docker://${b.host}/chunked/tiny:v1`]);
    assert.equal(r.digest, images.digest('tiny'));
    assert.equal(sha256Of(await inspectRaw(`docker://${b.host}/chunked/tiny:v1`)), images.digest('tiny'));
  });

  it('fails with a clear message and exit 1 for an image that does not exist', async () => {
    const r = await runBerth(['copy', `docker://${a.host}/lab/nothing:v1`, `oci:${join(work, 'nothing')}:v1`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /404 MANIFEST_UNKNOWN/);
    await assert.rejects(readFile(join(work, 'nothing', 'index.json')));
  });
});
