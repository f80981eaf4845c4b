// The read API's artifacts, checked against what real clients pushed and read back: skopeo
// copies the lab's images (an image and a two-platform index) in, the API's sizes, platforms,
// layers and history equal what skopeo inspects; a pull with skopeo shows as the last pull;
// referrers (an SBOM and a signature of it) are counted and shown as a tree; a delete removes
// the artifact and its bytes; and every answer conforms to the OpenAPI document.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { copy, inspectConfig, inspectRaw } from '../e2e/support/skopeo.js';
import { blob, imageManifest, sha256 } from '../support/oci-fixtures.js';
import { assertError, getJson, push, read, smallImage } from './read-support.js';
import type { ArtifactDetail, ArtifactSummary, Page, RepositorySummary } from '../../src/inventory/shapes.js';

const clients = requireClients('skopeo');

interface RawManifest { mediaType: string; config: { digest: string; size: number }; layers: { digest: string; size: number; mediaType: string }[]; manifests: { digest: string; platform: { os: string; architecture: string; variant?: string } }[] }

describe('read API: artifacts pushed and pulled by skopeo', { skip: clients.skip }, () => {
  let reg: TestRegistry;
  let lab: LabImages;
  let scratch: string;
  const api = (path: string) => `${reg.url}/api/v1/repositories/${path}`;
  before(async () => {
    clients.assertPresent();
    lab = await sharedLabImages();
    scratch = await tempDir('read-api');
    reg = await startTestRegistry();
    await copy(lab.oci('tiny'), `docker://${reg.host}/lab/tiny:v1`);
    await copy(lab.oci('multiarch'), `docker://${reg.host}/lab/multi:v1`, { all: true });
  });
  after(async () => {
    await reg?.close();
    if (scratch) await removeDir(scratch);
  });

  /** Total compressed bytes of an image as skopeo reads it: manifest, config and layers. */
  async function imageBytes(ref: string): Promise<{ total: number; raw: RawManifest; blobs: Map<string, number> }> {
    const bytes = await inspectRaw(ref);
    const raw = JSON.parse(bytes.toString('utf8')) as RawManifest;
    const blobs = new Map<string, number>([[sha256(bytes), bytes.length], [raw.config.digest, raw.config.size]]);
    for (const l of raw.layers) blobs.set(l.digest, l.size);
    return { total: [...blobs.values()].reduce((a, b) => a + b, 0), raw, blobs };
  }

  it('describes an image as skopeo sees it: size, platform, created, layers and history', async () => {
    const page = await read<Page<ArtifactSummary>>(api('lab/tiny/-/artifacts'), 'ArtifactPage');
    assert.equal(page.items.length, 1);
    const [a] = page.items;
    const seen = await imageBytes(`docker://${reg.host}/lab/tiny:v1`);
    const config = JSON.parse((await inspectConfig(`docker://${reg.host}/lab/tiny:v1`)).toString('utf8')) as { os: string; architecture: string; created?: string; history?: { created_by?: string }[] };
    assert.equal(a!.digest, lab.digest('tiny'));
    assert.equal(a!.kind, 'image');
    assert.deepEqual(a!.tags, ['v1']);
    assert.equal(a!.sizeBytes, seen.total);
    assert.deepEqual(a!.platforms.map((p) => [p.os, p.architecture, p.sizeBytes]), [[config.os, config.architecture, seen.total]]);
    assert.equal(a!.created, config.created ?? null);
    assert.ok(a!.pushedAt);
    const detail = await read<ArtifactDetail>(api('lab/tiny/-/artifacts/v1'), 'ArtifactDetail');
    assert.deepEqual(detail.layers.map((l) => [l.digest, l.sizeBytes]), seen.raw.layers.map((l) => [l.digest, l.size]));
    assert.deepEqual(detail.history.map((h) => h.createdBy), (config.history ?? []).map((h) => h.created_by ?? null));
    assert.deepEqual(detail.manifest, seen.raw);
    assert.deepEqual(detail.config, config);
    const byDigest = await read<ArtifactDetail>(api(`lab/tiny/-/artifacts/${lab.digest('tiny')}`), 'ArtifactDetail');
    assert.equal(byDigest.digest, detail.digest);
    const repo = await read<RepositorySummary>(api('lab/tiny'), 'Repository');
    assert.equal(repo.sizeBytes, seen.total);
  });

  it('describes an index: its platforms with their sizes, its children, its total counting shared blobs once', async () => {
    const page = await read<Page<ArtifactSummary>>(api('lab/multi/-/artifacts'), 'ArtifactPage');
    assert.equal(page.items.length, 1, 'the children are listed under their index');
    const [index] = page.items;
    const raw = JSON.parse((await inspectRaw(`docker://${reg.host}/lab/multi:v1`)).toString('utf8')) as RawManifest;
    const all = new Map<string, number>([[lab.digest('multiarch'), (await inspectRaw(`docker://${reg.host}/lab/multi:v1`)).length]]);
    const expected = [];
    for (const m of raw.manifests) {
      const child = await imageBytes(`docker://${reg.host}/lab/multi@${m.digest}`);
      for (const [d, n] of child.blobs) all.set(d, n);
      expected.push([m.platform.os, m.platform.architecture, m.digest, child.total]);
    }
    assert.equal(index!.kind, 'index');
    assert.deepEqual(index!.platforms.map((p) => [p.os, p.architecture, p.digest, p.sizeBytes]), expected);
    assert.equal(index!.sizeBytes, [...all.values()].reduce((a, b) => a + b, 0));
    const detail = await read<ArtifactDetail>(api('lab/multi/-/artifacts/v1'), 'ArtifactDetail');
    assert.deepEqual(detail.children.map((c) => [c.digest, c.platform?.architecture, c.sizeBytes]), expected.map((e) => [e[2], e[1], e[3]]));
    const everything = await read<Page<ArtifactSummary>>(api('lab/multi/-/artifacts?all=true'), 'ArtifactPage');
    assert.equal(everything.items.length, 1 + raw.manifests.length);
  });

  it('records the last pull of what skopeo pulled', async () => {
    const fresh = smallImage();
    assert.equal(await push(reg.url, 'lab/fresh', 'v1', fresh.manifest, fresh.blobs), 201);
    const pushed = (await read<Page<ArtifactSummary>>(api('lab/fresh/-/artifacts'), 'ArtifactPage')).items[0]!;
    assert.equal(pushed.lastPulledAt, null, 'never pulled yet');
    const started = Date.now();
    await copy(`docker://${reg.host}/lab/fresh:v1`, `oci:${join(scratch, 'pulled')}:v1`);
    // Pull times are written in batches (a pull never waits on the database): wait for the batch.
    let pulled: string | null = null;
    for (let i = 0; i < 100 && pulled === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pulled = (await read<Page<ArtifactSummary>>(api('lab/fresh/-/artifacts'), 'ArtifactPage')).items[0]!.lastPulledAt;
    }
    assert.ok(pulled, 'the pull is recorded');
    assert.ok(Date.parse(pulled) >= started);
  });

  it('counts referrers by kind and shows them as a tree under their subject', async () => {
    const subject = (await read<ArtifactDetail>(api('lab/tiny/-/artifacts/v1'), 'ArtifactDetail'));
    const empty = blob('{}');
    const sbomLayer = blob(JSON.stringify({ spdxVersion: 'SPDX-2.3' }));
    // The subject descriptor's size must be the stored manifest's: take it from the registry.
    const stored = await inspectRaw(`docker://${reg.host}/lab/tiny:v1`);
    const sbomManifest = imageManifest(empty, [sbomLayer], { artifactType: 'application/spdx+json', subject: { mediaType: subject.mediaType, digest: subject.digest, size: stored.length } });
    assert.equal(await push(reg.url, 'lab/tiny', sbomManifest.digest, sbomManifest, [empty, sbomLayer]), 201);
    const sigLayer = blob('signature bytes');
    const sig = imageManifest(empty, [sigLayer], { artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', subject: { mediaType: sbomManifest.mediaType, digest: sbomManifest.digest, size: sbomManifest.body.length } });
    assert.equal(await push(reg.url, 'lab/tiny', sig.digest, sig, [sigLayer]), 201);
    const page = await read<Page<ArtifactSummary>>(api('lab/tiny/-/artifacts'), 'ArtifactPage');
    assert.equal(page.items.length, 1, 'referrers are listed under their subject');
    assert.deepEqual(page.items[0]!.referrers, { total: 1, signatures: 0, sboms: 1, attestations: 0, byArtifactType: { 'application/spdx+json': 1 } });
    const detail = await read<ArtifactDetail>(api('lab/tiny/-/artifacts/v1'), 'ArtifactDetail');
    assert.deepEqual(detail.referrerTree.map((r) => [r.digest, r.artifactType, r.referrers.map((s) => [s.digest, s.artifactType])]),
      [[sbomManifest.digest, 'application/spdx+json', [[sig.digest, 'application/vnd.dev.cosign.artifact.sig.v1+json']]]]);
    const sbomDetail = await read<ArtifactDetail>(api(`lab/tiny/-/artifacts/${sbomManifest.digest}`), 'ArtifactDetail');
    assert.equal(sbomDetail.subject, subject.digest);
    assert.equal(sbomDetail.referrers.signatures, 1);
  });

  it('filters by tag substring, sorts by name or push time, pages, and forgets deleted artifacts and their bytes', async () => {
    const tags = ['alpha', 'beta', 'gamma', 'beta-2', 'delta'];
    const images = new Map<string, ReturnType<typeof smallImage>>();
    for (const tag of tags) {
      const img = smallImage(300);
      images.set(tag, img);
      assert.equal(await push(reg.url, 'lab/many', tag, img.manifest, img.blobs), 201);
    }
    const untagged = smallImage(300);
    assert.equal(await push(reg.url, 'lab/many', untagged.manifest.digest, untagged.manifest, untagged.blobs), 201);
    const names: string[][] = [];
    let cursor: string | null = null;
    do {
      const p: Page<ArtifactSummary> = await read<Page<ArtifactSummary>>(api(`lab/many/-/artifacts?sort=name&limit=2${cursor ? `&cursor=${cursor}` : ''}`), 'ArtifactPage');
      names.push(...p.items.map((a) => a.tags));
      cursor = p.next;
    } while (cursor);
    assert.deepEqual(names, [['alpha'], ['beta'], ['beta-2'], ['delta'], ['gamma'], []], 'by first tag, untagged last');
    const byPush = await read<Page<ArtifactSummary>>(api('lab/many/-/artifacts?limit=10'), 'ArtifactPage');
    assert.deepEqual(byPush.items.map((a) => a.tags[0] ?? null), [null, 'delta', 'beta-2', 'gamma', 'beta', 'alpha'], 'newest first');
    const beta = await read<Page<ArtifactSummary>>(api('lab/many/-/artifacts?tag=beta'), 'ArtifactPage');
    assert.deepEqual(beta.items.map((a) => a.tags).sort(), [['beta'], ['beta-2']]);
    assert.deepEqual((await read<Page<ArtifactSummary>>(api('lab/many/-/artifacts?tagged=false'), 'ArtifactPage')).items.map((a) => a.digest), [untagged.manifest.digest]);
    const before_ = await read<RepositorySummary>(api('lab/many'), 'Repository');
    const gone = images.get('gamma')!;
    const del = await fetch(`${reg.url}/v2/lab/many/manifests/${gone.manifest.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    const after_ = await read<RepositorySummary>(api('lab/many'), 'Repository');
    assert.equal(after_.artifacts, before_.artifacts - 1);
    assert.equal(after_.sizeBytes, before_.sizeBytes - gone.manifest.body.length - gone.blobs.reduce((n, b) => n + b.size, 0));
    assertError(await getJson(api(`lab/many/-/artifacts/${gone.manifest.digest}`)), 404, 'MANIFEST_UNKNOWN');
  });

  it('refuses bad references and parameters with error JSON', async () => {
    assertError(await getJson(api('lab/tiny/-/artifacts/sha256:abc')), 400, 'DIGEST_INVALID');
    assertError(await getJson(api('lab/tiny/-/artifacts/no-such-tag')), 404, 'MANIFEST_UNKNOWN');
    assertError(await getJson(api('lab/tiny/-/artifacts/.bad')), 400, 'TAG_INVALID');
    assertError(await getJson(api('lab/none/-/artifacts')), 404, 'NAME_UNKNOWN');
    assertError(await getJson(api('lab/tiny/-/artifacts?sort=size')), 400, 'INVALID');
    assertError(await getJson(api('lab/tiny/-/artifacts?tagged=maybe')), 400, 'INVALID');
    assertError(await getJson(api('lab/tiny/-/artifacts/v1?x=1')), 400, 'INVALID');
  });
});
