// Storage interop with CNCF Distribution 2.8 (Debian's docker-registry), both ways, through
// the real binaries and skopeo: what one registry wrote, the other serves with identical
// digests, tags list and catalog.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { startBerth } from './support/berth-process.js';
import { distributionGarbageCollect, startDistribution, writeDistributionConfig } from './support/distribution-process.js';
import { freePort, removeDir, requireClients, tempDir } from './support/env.js';
import { artifact, blob, EMPTY_CONFIG, OCI_MANIFEST, type Manifest } from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { buildLabImages, layoutDescriptor, type LabImages } from './support/images.js';
import { copy, inspectRaw, listTags, sha256Of } from './support/skopeo.js';

const gate = requireClients('skopeo', 'docker-registry');

interface Server {
  url: string;
  host: string;
  stop(): Promise<void>;
  logs(): string;
}

const IMAGES = [
  { name: 'multilayer', repo: 'interop/multilayer', all: false },
  { name: 'multiarch', repo: 'interop/multiarch', all: true },
  { name: 'tiny', repo: 'interop/nested/tiny', all: false },
] as const;

async function pushAll(server: Server, images: LabImages): Promise<void> {
  for (const img of IMAGES) {
    await copy(images.oci(img.name), `docker://${server.host}/${img.repo}:v1`, { all: img.all });
    assert.equal(sha256Of(await inspectRaw(`docker://${server.host}/${img.repo}:v1`)), images.digest(img.name), `${img.repo} after push`);
  }
  // A second tag, so tags/list shows more than one entry.
  await copy(images.oci('tiny'), `docker://${server.host}/interop/nested/tiny:v2`);
}

async function pullAllAndCompare(server: Server, images: LabImages, outDir: string, label: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  for (const img of IMAGES) {
    const ref = `docker://${server.host}/${img.repo}:v1`;
    assert.equal(sha256Of(await inspectRaw(ref)), images.digest(img.name), `${label}: inspect --raw ${img.repo}`);
    const out = join(outDir, img.name);
    await copy(ref, `oci:${out}:v1`, { all: img.all });
    assert.equal((await layoutDescriptor(out, 'v1')).digest, images.digest(img.name), `${label}: pulled ${img.repo}`);
  }
  assert.deepEqual(await listTags(`docker://${server.host}/interop/nested/tiny`), ['v1', 'v2'], `${label}: skopeo list-tags`);
  const tags = await fetch(`${server.url}/v2/interop/nested/tiny/tags/list`);
  assert.equal(tags.status, 200, `${label}: tags/list`);
  assert.deepEqual(await tags.json(), { name: 'interop/nested/tiny', tags: ['v1', 'v2'] }, `${label}: tags/list body`);
  const catalog = await fetch(`${server.url}/v2/_catalog`);
  assert.equal(catalog.status, 200, `${label}: catalog`);
  assert.deepEqual(await catalog.json(), { repositories: ['interop/multiarch', 'interop/multilayer', 'interop/nested/tiny'] }, `${label}: catalog body`);
}

it('has the clients it drives installed (skopeo, docker-registry)', { skip: gate.skip }, () => gate.assertPresent());

async function assertReferrers(url: string, subject: string, want: string[], label: string): Promise<void> {
  const res = await fetch(`${url}/v2/interop/multilayer/referrers/${subject}`);
  assert.equal(res.status, 200, `${label}: referrers`);
  const body = await res.json() as { manifests: { digest: string }[] };
  assert.deepEqual(body.manifests.map((m) => m.digest).sort(), [...want].sort(), `${label}: referrers list`);
}

describe('storage interop with Distribution 2.8 (docker-registry)', { skip: gate.skip }, () => {
  let images: LabImages;
  let work: string | undefined;
  const running = new Set<Server>();

  async function track<T extends Server>(start: Promise<T>): Promise<T> {
    const s = await start;
    running.add(s);
    return s;
  }
  async function stop(s: Server): Promise<void> {
    await s.stop();
    running.delete(s);
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('interop');
    images = await buildLabImages(join(work, 'images'));
  });
  after(async () => {
    for (const s of running) await s.stop();
    await removeDir(work);
  });

  it('Berth serves what docker-registry wrote', async () => {
    const root = join(work!, 'written-by-distribution');
    const configDir = join(work!, 'conf-a');
    await mkdir(configDir, { recursive: true });
    const dist = await track(startDistribution({ root, configDir }));
    await pushAll(dist, images);
    // An upload Distribution started and left half done (in repo interop/multilayer).
    const data = blob(randomBytes(3 * 1024 * 1024 + 17));
    const half = 1024 * 1024 + 5;
    const post = await fetch(`${dist.url}/v2/interop/multilayer/blobs/uploads/`, { method: 'POST' });
    await post.arrayBuffer();
    assert.equal(post.status, 202);
    const first = await fetch(new URL(post.headers.get('location')!, dist.url), {
      method: 'PATCH', body: data.data.subarray(0, half),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${half - 1}` },
    });
    await first.arrayBuffer();
    assert.equal(first.status, 202, 'distribution took the first chunk');
    const uploadPath = new URL(first.headers.get('location')!, dist.url).pathname;
    await stop(dist);

    const berth = await track(startBerth({ root }));
    await pullAllAndCompare(berth, images, join(work!, 'out-a'), 'berth on distribution data');
    // Berth continues Distribution's upload session from its stored data.
    const status = await fetch(`${berth.url}${uploadPath}`);
    assert.equal(status.status, 204, 'berth knows the session distribution started');
    assert.equal(status.headers.get('range'), `0-${half - 1}`);
    const rest = await fetch(`${berth.url}${uploadPath}`, {
      method: 'PATCH', body: data.data.subarray(half),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${half}-${data.size - 1}` },
    });
    await rest.arrayBuffer();
    assert.equal(rest.status, 202, 'berth takes the rest');
    const put = await fetch(`${berth.url}${uploadPath}?digest=${data.digest}`, { method: 'PUT' });
    await put.arrayBuffer();
    assert.equal(put.status, 201, 'berth completes it');
    const back = await fetch(`${berth.url}/v2/interop/multilayer/blobs/${data.digest}`);
    assert.equal(back.status, 200);
    assert.deepEqual(Buffer.from(await back.arrayBuffer()), data.data);
    await stop(berth);
  });

  it('docker-registry serves what Berth wrote', async () => {
    const root = join(work!, 'written-by-berth');
    const configDir = join(work!, 'conf-b');
    await mkdir(configDir, { recursive: true });
    const berth = await track(startBerth({ root }));
    await pushAll(berth, images);
    // An OCI 1.1 artifact referring to the multi-layer image: Berth indexes it under
    // `_referrers/`, which Distribution must ignore (catalog, GC).
    const subjectBytes = await inspectRaw(`docker://${berth.host}/interop/multilayer:v1`);
    const subject: Manifest = {
      body: subjectBytes, digest: sha256Of(subjectBytes), mediaType: OCI_MANIFEST,
      json: JSON.parse(subjectBytes.toString('utf8')) as Record<string, unknown>,
    };
    const sbom = blob('{"sbom":"interop"}');
    const referrer = artifact(subject, 'application/vnd.example.sbom', sbom);
    await pushBlob(berth.url, 'interop/multilayer', EMPTY_CONFIG);
    await pushBlob(berth.url, 'interop/multilayer', sbom);
    await pushManifest(berth.url, 'interop/multilayer', referrer.digest, referrer);
    await assertReferrers(berth.url, subject.digest, [referrer.digest], 'berth before');
    await stop(berth);

    // Distribution's offline garbage collector over Berth's directory must keep everything.
    const gcConfig = await writeDistributionConfig({ root, configDir }, await freePort());
    const gcOut = await distributionGarbageCollect(gcConfig);
    assert.match(gcOut, /\b0 blobs and 0 manifests eligible for deletion/, `GC output:\n${gcOut}`);
    assert.ok(gcOut.includes(`marking manifest ${referrer.digest}`), `GC marks the artifact:\n${gcOut}`);

    const dist = await track(startDistribution({ root, configDir }));
    await pullAllAndCompare(dist, images, join(work!, 'out-b'), 'distribution on berth data');
    const served = await fetch(`${dist.url}/v2/interop/multilayer/manifests/${referrer.digest}`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(served.status, 200, 'distribution serves the artifact manifest by digest');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), referrer.body);
    const sbomBack = await fetch(`${dist.url}/v2/interop/multilayer/blobs/${sbom.digest}`);
    assert.equal(sbomBack.status, 200, 'artifact blob survives Distribution GC');
    assert.deepEqual(Buffer.from(await sbomBack.arrayBuffer()), sbom.data);
    await stop(dist);

    // And Berth still has its referrers index after Distribution served and collected.
    const again = await track(startBerth({ root }));
    await assertReferrers(again.url, subject.digest, [referrer.digest], 'berth after distribution and GC');
    assert.equal(sha256Of(await inspectRaw(`docker://${again.host}/interop/multiarch:v1`)), images.digest('multiarch'));
    await stop(again);
  });
});
