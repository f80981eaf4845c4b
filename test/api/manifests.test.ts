// Manifests HEAD/GET/PUT/DELETE by tag and by digest, for OCI and Docker manifests and
// indexes and OCI 1.1 artifacts, as tables.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import {
  artifact, blob, DOCKER_LIST, DOCKER_MANIFEST, EMPTY_CONFIG, imageManifest, indexManifest,
  OCI_INDEX, OCI_MANIFEST, sha256, type Manifest,
} from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { check, DRIVERS, send, UNKNOWN_DIGEST, type Expect, type Row } from '../support/api-table.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REPO = 'man/app';
const mpath = (ref: string, repo = REPO): string => `/v2/${repo}/manifests/${ref}`;

function raw(json: unknown, mediaType: string): Manifest {
  const body = Buffer.from(JSON.stringify(json));
  return { body, digest: sha256(body), mediaType, json: json as Record<string, unknown> };
}

const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
const layer = blob('layer one');
const layer2 = blob('layer two');
const missing = blob('never pushed');
const img = imageManifest(config, [layer]);
const img2 = imageManifest(config, [layer2]);
const index = indexManifest([img, img2]);
const dimg = imageManifest(config, [layer], {}, DOCKER_MANIFEST);
const dlist = indexManifest([dimg], DOCKER_LIST);
const sbom = blob('{"sbom":true}');
const art = artifact(img, 'application/vnd.example.sbom', sbom, { 'org.example.kind': 'sbom' });
const orphanArt = artifact(raw({ never: 'pushed' }, OCI_MANIFEST), 'application/vnd.example.sig', sbom);
// An OCI manifest without mediaType: its type comes from the Content-Type of the PUT.
const noMediaType = raw({ schemaVersion: 2, config: img.json.config, layers: img.json.layers }, OCI_MANIFEST);
const sha512Of = (b: Buffer): string => `sha512:${createHash('sha512').update(b).digest('hex')}`;

/** Headers of a GET/HEAD of `m` by tag or digest. */
function served(m: Manifest, byDigest: boolean): Expect['headers'] {
  return {
    'content-type': m.mediaType,
    'docker-content-digest': m.digest,
    'content-length': String(m.body.length),
    etag: `"${m.digest}"`,
    'cache-control': byDigest ? IMMUTABLE : 'no-cache',
  };
}

const seeded: { tag: string; m: Manifest }[] = [
  { tag: 'v1', m: img }, { tag: 'v2', m: img2 }, { tag: 'index', m: index },
  { tag: 'docker', m: dimg }, { tag: 'dlist', m: dlist }, { tag: 'sbom', m: art },
];

const readRows: Row[] = [
  ...seeded.flatMap(({ tag, m }): Row[] => [
    { name: `GET ${tag} by tag -> Content-Type ${m.mediaType}`, call: { method: 'GET', path: mpath(tag) }, expect: { status: 200, headers: served(m, false), body: m.body } },
    { name: `GET ${tag} by digest -> immutable`, call: { method: 'GET', path: mpath(m.digest) }, expect: { status: 200, headers: served(m, true), body: m.body } },
    { name: `HEAD ${tag} by tag`, call: { method: 'HEAD', path: mpath(tag) }, expect: { status: 200, headers: served(m, false) } },
    { name: `HEAD ${tag} by digest`, call: { method: 'HEAD', path: mpath(m.digest) }, expect: { status: 200, headers: served(m, true) } },
  ]),
  { name: 'GET a manifest pushed without mediaType -> Content-Type of its kind', call: { method: 'GET', path: mpath('nomt') }, expect: { status: 200, headers: { 'content-type': OCI_MANIFEST }, body: noMediaType.body } },
  { name: 'GET with an Accept header listing all types', call: { method: 'GET', path: mpath('index'), headers: { Accept: [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ') } }, expect: { status: 200, headers: { 'content-type': OCI_INDEX } } },
  // Conditional requests.
  { name: 'If-None-Match by tag -> 304', call: { method: 'GET', path: mpath('v1'), headers: { 'If-None-Match': `"${img.digest}"` } }, expect: { status: 304, empty: true, headers: { etag: `"${img.digest}"`, 'docker-content-digest': img.digest } } },
  { name: 'If-None-Match by digest -> 304', call: { method: 'GET', path: mpath(img.digest), headers: { 'If-None-Match': `"${img.digest}"` } }, expect: { status: 304, empty: true } },
  { name: 'HEAD If-None-Match -> 304', call: { method: 'HEAD', path: mpath('v1'), headers: { 'If-None-Match': `"${img.digest}"` } }, expect: { status: 304 } },
  { name: 'If-None-Match of another manifest -> 200', call: { method: 'GET', path: mpath('v1'), headers: { 'If-None-Match': `"${img2.digest}"` } }, expect: { status: 200, body: img.body } },
  // Unknown and invalid references.
  { name: 'GET unknown tag -> 404 MANIFEST_UNKNOWN', call: { method: 'GET', path: mpath('nope') }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
  { name: 'GET unknown digest -> 404 MANIFEST_UNKNOWN', call: { method: 'GET', path: mpath(UNKNOWN_DIGEST) }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
  { name: 'HEAD unknown tag -> 404 without body', call: { method: 'HEAD', path: mpath('nope') }, expect: { status: 404, headers: { 'docker-content-digest': null, 'content-length': null } } },
  { name: 'GET a blob digest as a manifest -> 404 MANIFEST_UNKNOWN', call: { method: 'GET', path: mpath(layer.digest) }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
  { name: 'GET a manifest of another repository by digest -> 404', call: { method: 'GET', path: mpath(img.digest, 'man/other') }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
  { name: 'GET in an unknown repository -> 404', call: { method: 'GET', path: mpath('v1', 'man/none') }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
  { name: 'GET malformed digest -> 400 DIGEST_INVALID', call: { method: 'GET', path: mpath('sha256:123') }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'GET unsupported algorithm -> 400 DIGEST_INVALID', call: { method: 'GET', path: mpath(`md5:${'1'.repeat(32)}`) }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'GET invalid tag -> 404 MANIFEST_UNKNOWN (conformance)', call: { method: 'GET', path: mpath('-dash') }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
  { name: 'HEAD invalid tag -> 404 without body (conformance)', call: { method: 'HEAD', path: mpath('.INVALID_MANIFEST_NAME') }, expect: { status: 404 } },
];

/** A PUT row: the manifest goes to a repository that holds config, layer and layer2 (and v1). */
function put(name: string, ref: string, body: Buffer | string, contentType: string, expect: Expect): Row {
  return { name, call: { method: 'PUT', path: mpath(ref, 'man/put'), body, headers: { 'Content-Type': contentType } }, expect };
}

const created = (m: Manifest, repo = 'man/put'): Expect => ({
  status: 201, empty: true,
  headers: { location: new RegExp(`/v2/${repo}/manifests/${m.digest}$`), 'docker-content-digest': m.digest, 'oci-subject': null },
});

const withMissingLayer = imageManifest(config, [layer, missing]);
const withMissingConfig = imageManifest(missing, [layer]);
const onlyElsewhere = blob('only in man/other');
const withForeignOnlyLayer = imageManifest(config, [onlyElsewhere]);
const indexMissingChild = indexManifest([img, raw({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }, OCI_MANIFEST)]);
const dlistMissingChild = indexManifest([imageManifest(config, [missing], {}, DOCKER_MANIFEST)], DOCKER_LIST);
const foreignLayer = raw({
  schemaVersion: 2, mediaType: DOCKER_MANIFEST,
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: config.digest, size: config.size },
  layers: [
    { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: missing.digest, size: missing.size, urls: ['https://example.com/layer'] },
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: layer.digest, size: layer.size },
  ],
}, DOCKER_MANIFEST);
// Layers naming URLs (validation.manifests.urls of the PUT registry: allow example.com, deny its /denied/).
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_NONDIST = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
const DOCKER_FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
const URL_RULES = { allow: ['^https://example\\.com/'], deny: ['^https://example\\.com/denied/'] };
const withLayers = (...layers: Record<string, unknown>[]): Manifest => raw({
  schemaVersion: 2, mediaType: OCI_MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
  layers,
}, OCI_MANIFEST);
const missingAt = (mediaType: string, urls?: string[]) => ({ mediaType, digest: missing.digest, size: missing.size, ...(urls ? { urls } : {}) });
const nonDistributable = withLayers(missingAt(OCI_NONDIST, ['https://example.com/layer.tar.gz']), { mediaType: OCI_LAYER, digest: layer.digest, size: layer.size });
const refusedByUrls: Array<[string, Manifest, number, string]> = [
  ['an ordinary layer with urls is still required -> 404 MANIFEST_BLOB_UNKNOWN', withLayers(missingAt(OCI_LAYER, ['https://example.com/layer'])), 404, 'MANIFEST_BLOB_UNKNOWN'],
  ['an ordinary layer with a file:// URL -> 400 MANIFEST_INVALID', withLayers(missingAt(OCI_LAYER, ['file:///etc/passwd'])), 400, 'MANIFEST_INVALID'],
  ['a non-distributable layer with a file:// URL -> 400 MANIFEST_INVALID', withLayers(missingAt(OCI_NONDIST, ['file:///etc/passwd'])), 400, 'MANIFEST_INVALID'],
  ['a foreign layer with a URL no allow pattern matches -> 400 MANIFEST_INVALID', withLayers(missingAt(DOCKER_FOREIGN, ['https://elsewhere.test/layer'])), 400, 'MANIFEST_INVALID'],
  ['a foreign layer with a URL a deny pattern matches -> 400 MANIFEST_INVALID', withLayers(missingAt(DOCKER_FOREIGN, ['https://example.com/denied/layer'])), 400, 'MANIFEST_INVALID'],
  ['a foreign layer whose second URL is refused -> 400 MANIFEST_INVALID', withLayers(missingAt(DOCKER_FOREIGN, ['https://example.com/ok', 'http://169.254.169.254/latest'])), 400, 'MANIFEST_INVALID'],
  ['a foreign layer URL with a fragment -> 400 MANIFEST_INVALID', withLayers(missingAt(DOCKER_FOREIGN, ['https://example.com/layer#x'])), 400, 'MANIFEST_INVALID'],
  ['a non-distributable layer without urls is required -> 404 MANIFEST_BLOB_UNKNOWN', withLayers(missingAt(OCI_NONDIST)), 404, 'MANIFEST_BLOB_UNKNOWN'],
  // Descriptor sizes against the stored blobs.
  ['a layer descriptor one byte larger than the blob -> 400 MANIFEST_INVALID', withLayers({ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size + 1 }), 400, 'MANIFEST_INVALID'],
  ['a layer descriptor of size 0 for a stored blob -> 400 MANIFEST_INVALID', withLayers({ mediaType: OCI_LAYER, digest: layer.digest, size: 0 }), 400, 'MANIFEST_INVALID'],
  ['a config descriptor smaller than the blob -> 400 MANIFEST_INVALID', raw({ ...img.json, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size - 1 } }, OCI_MANIFEST), 400, 'MANIFEST_INVALID'],
  ['one digest listed twice, once with a wrong size -> 400 MANIFEST_INVALID', withLayers({ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }, { mediaType: OCI_LAYER, digest: layer.digest, size: layer.size + 7 }), 400, 'MANIFEST_INVALID'],
  ['a non-distributable layer with an ftp:// URL -> 400 MANIFEST_INVALID', withLayers(missingAt(OCI_NONDIST, ['ftp://example.com/x'])), 400, 'MANIFEST_INVALID'],
];
const schema1 = raw({ schemaVersion: 1, name: 'man/put', tag: 'v1', fsLayers: [], history: [] }, 'application/vnd.docker.distribution.manifest.v1+json');
const unknownType = raw({ ...img.json, mediaType: 'application/vnd.example.unknown+json' }, 'application/vnd.example.unknown+json');
const dockerNoMediaType = raw({ schemaVersion: 2, config: dimg.json.config, layers: dimg.json.layers }, DOCKER_MANIFEST);
const sha512Manifest = imageManifest(config, [layer2], { annotations: { 'org.example.digest': 'sha512' } });
const sha512Digest = sha512Of(sha512Manifest.body);
const tag128 = `t${'x'.repeat(127)}`;
const tag129 = `t${'x'.repeat(128)}`;

const putRows: Row[] = [
  put('OCI manifest by tag -> 201', 'v1', img.body, OCI_MANIFEST, created(img)),
  put('OCI manifest by digest -> 201', img2.digest, img2.body, OCI_MANIFEST, created(img2)),
  put('OCI index by tag -> 201', 'index', index.body, OCI_INDEX, created(index)),
  put('Docker schema2 manifest -> 201', 'docker', dimg.body, DOCKER_MANIFEST, created(dimg)),
  put('Docker manifest list -> 201', 'dlist', dlist.body, DOCKER_LIST, created(dlist)),
  put('artifact with subject -> 201 with OCI-Subject', 'sbom', art.body, OCI_MANIFEST, { ...created(art), headers: { ...created(art).headers, 'oci-subject': img.digest } }),
  put('artifact whose subject does not exist -> 201 with OCI-Subject', orphanArt.digest, orphanArt.body, OCI_MANIFEST, { ...created(orphanArt), headers: { ...created(orphanArt).headers, 'oci-subject': String((orphanArt.json.subject as { digest: string }).digest) } }),
  put('Content-Type application/json with a declared mediaType -> 201', 'json-ct', img.body, 'application/json', created(img)),
  put('Content-Type with parameters -> 201', 'params-ct', img.body, `${OCI_MANIFEST}; charset=utf-8`, created(img)),
  put('no mediaType in the body: taken from Content-Type -> 201', 'nomt', noMediaType.body, OCI_MANIFEST, created(noMediaType)),
  put('foreign layer (urls) need not be pushed -> 201', 'foreign', foreignLayer.body, DOCKER_MANIFEST, created(foreignLayer)),
  put('OCI non-distributable layer with an allowed URL need not be pushed -> 201', 'nondist', nonDistributable.body, OCI_MANIFEST, created(nonDistributable)),
  put('PUT by sha512 digest -> 201', sha512Digest, sha512Manifest.body, OCI_MANIFEST, { status: 201, headers: { 'docker-content-digest': sha512Digest, location: new RegExp(`/manifests/${sha512Digest}$`) } }),
  put('128-character tag -> 201', tag128, img.body, OCI_MANIFEST, created(img)),
  // Missing references.
  put('missing layer -> 404 MANIFEST_BLOB_UNKNOWN', 'bad', withMissingLayer.body, OCI_MANIFEST, { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' }),
  put('missing config -> 404 MANIFEST_BLOB_UNKNOWN', 'bad', withMissingConfig.body, OCI_MANIFEST, { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' }),
  put('layer only in another repository -> 404 MANIFEST_BLOB_UNKNOWN', 'bad', withForeignOnlyLayer.body, OCI_MANIFEST, { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' }),
  put('index with a missing child -> 404 MANIFEST_BLOB_UNKNOWN', 'bad', indexMissingChild.body, OCI_INDEX, { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' }),
  put('Docker list with a missing child -> 404 MANIFEST_BLOB_UNKNOWN', 'bad', dlistMissingChild.body, DOCKER_LIST, { status: 404, code: 'MANIFEST_BLOB_UNKNOWN' }),
  // Layer URLs and descriptor sizes.
  ...refusedByUrls.map(([name, m, status, code]) => put(name, 'bad', m.body, OCI_MANIFEST, { status, code })),
  // Invalid manifests.
  put('not JSON -> 400 MANIFEST_INVALID', 'bad', '{"schemaVersion": 2,', OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('empty body -> 400 MANIFEST_INVALID', 'bad', '', OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('JSON array -> 400 MANIFEST_INVALID', 'bad', '[]', OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('schema1 -> 400 MANIFEST_INVALID', 'bad', schema1.body, schema1.mediaType, { status: 400, code: 'MANIFEST_INVALID' }),
  put('unknown mediaType -> 400 MANIFEST_INVALID', 'bad', unknownType.body, unknownType.mediaType, { status: 400, code: 'MANIFEST_INVALID' }),
  put('Content-Type index, mediaType manifest -> 400 MANIFEST_INVALID', 'bad', img.body, OCI_INDEX, { status: 400, code: 'MANIFEST_INVALID' }),
  put('Content-Type manifest, body an index -> 400 MANIFEST_INVALID', 'bad', index.body, OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('Content-Type OCI index, body a Docker list -> 400 MANIFEST_INVALID', 'bad', dlist.body, OCI_INDEX, { status: 400, code: 'MANIFEST_INVALID' }),
  put('Content-Type Docker, mediaType OCI -> 400 MANIFEST_INVALID', 'bad', img.body, DOCKER_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('Content-Type text/plain, mediaType OCI -> 400 MANIFEST_INVALID', 'bad', img.body, 'text/plain', { status: 400, code: 'MANIFEST_INVALID' }),
  put('Docker manifest without mediaType -> 400 MANIFEST_INVALID', 'bad', dockerNoMediaType.body, DOCKER_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('layer with a bad digest -> 400 MANIFEST_INVALID', 'bad', JSON.stringify({ ...img.json, layers: [{ mediaType: 'application/octet-stream', digest: 'sha256:nothex', size: 1 }] }), OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('layer with a negative size -> 400 MANIFEST_INVALID', 'bad', JSON.stringify({ ...img.json, layers: [{ mediaType: 'application/octet-stream', digest: layer.digest, size: -1 }] }), OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('image manifest without config -> 400 MANIFEST_INVALID', 'bad', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }), OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('index without manifests -> 400 MANIFEST_INVALID', 'bad', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX }), OCI_INDEX, { status: 400, code: 'MANIFEST_INVALID' }),
  put('subject that is not a descriptor -> 400 MANIFEST_INVALID', 'bad', JSON.stringify({ ...img.json, subject: 'sha256:abc' }), OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  // References.
  put('by digest, content does not match -> 400 DIGEST_INVALID', img2.digest, img.body, OCI_MANIFEST, { status: 400, code: 'DIGEST_INVALID' }),
  put('by sha512 digest, content does not match -> 400 DIGEST_INVALID', sha512Of(Buffer.from('x')), img.body, OCI_MANIFEST, { status: 400, code: 'DIGEST_INVALID' }),
  put('by malformed digest -> 400 DIGEST_INVALID', 'sha256:1234', img.body, OCI_MANIFEST, { status: 400, code: 'DIGEST_INVALID' }),
  put('129-character tag -> 400 MANIFEST_INVALID', tag129, img.body, OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
  put('tag starting with a dot -> 400 MANIFEST_INVALID', '.hidden', img.body, OCI_MANIFEST, { status: 400, code: 'MANIFEST_INVALID' }),
];

for (const driver of DRIVERS) {
  describe(`manifest reads (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      for (const b of [config, layer, layer2, sbom, EMPTY_CONFIG]) await pushBlob(reg.url, REPO, b);
      for (const { tag, m } of seeded) await pushManifest(reg.url, REPO, tag, m);
      await pushManifest(reg.url, REPO, 'nomt', noMediaType);
      await pushBlob(reg.url, 'man/other', config);
    });
    after(async () => { await reg.close(); });
    for (const row of readRows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });
  });

  describe(`manifest PUT (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver, configure: (c) => { c.validation.manifests.urls = { ...URL_RULES }; } });
      for (const b of [config, layer, layer2, sbom, EMPTY_CONFIG]) await pushBlob(reg.url, 'man/put', b);
      await pushBlob(reg.url, 'man/other', onlyElsewhere);
    });
    after(async () => { await reg.close(); });

    for (const row of putRows) {
      it(row.name, async () => {
        await check(reg.url, row.call, row.expect, row.name);
        const ref = row.call.path.slice(row.call.path.lastIndexOf('/') + 1);
        if (row.expect.status === 201) {
          // What was stored is served back byte for byte, with its media type.
          const digest = (await send(reg.url, { method: 'HEAD', path: row.call.path })).headers.get('docker-content-digest');
          const got = await send(reg.url, { method: 'GET', path: mpath(digest ?? '', 'man/put') });
          assert.equal(got.status, 200);
          assert.deepEqual(got.body, Buffer.from(row.call.body ?? ''));
        } else if (ref === 'bad') {
          // A refused PUT leaves no tag behind.
          await check(reg.url, { method: 'GET', path: mpath(ref, 'man/put') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
        }
      });
    }

    it('a refused PUT by digest stores nothing under that digest', async () => {
      await check(reg.url, { method: 'GET', path: mpath(withMissingLayer.digest, 'man/put') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
      await check(reg.url, { method: 'GET', path: mpath(indexMissingChild.digest, 'man/put') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
    });

    it('a PUT refused for its layer URLs or sizes stores nothing: not by digest, not by its tag', async () => {
      for (const [name, m, status, code] of refusedByUrls) {
        await check(reg.url, { method: 'PUT', path: mpath(m.digest, 'man/put'), body: m.body, headers: { 'Content-Type': OCI_MANIFEST } }, { status, code }, `${name} (by digest)`);
        await check(reg.url, { method: 'GET', path: mpath(m.digest, 'man/put') }, { status: 404, code: 'MANIFEST_UNKNOWN' }, `${name}: stored`);
        await check(reg.url, { method: 'PUT', path: mpath('urls', 'man/put'), body: m.body, headers: { 'Content-Type': OCI_MANIFEST } }, { status, code }, `${name} (by tag)`);
        await check(reg.url, { method: 'GET', path: mpath('urls', 'man/put') }, { status: 404, code: 'MANIFEST_UNKNOWN' }, `${name}: tagged`);
      }
    });

    it('manifest over 4 MiB -> 413 (with Content-Length)', async () => {
      const huge = raw({ ...img.json, annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } }, OCI_MANIFEST);
      await check(reg.url, { method: 'PUT', path: mpath('huge', 'man/put'), body: huge.body, headers: { 'Content-Type': OCI_MANIFEST } }, { status: 413 });
      await check(reg.url, { method: 'GET', path: mpath('huge', 'man/put') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
    });

    it('manifest over 4 MiB, streamed without Content-Length -> 413', async () => {
      const huge = raw({ ...img.json, annotations: { pad: 'y'.repeat(4 * 1024 * 1024) } }, OCI_MANIFEST);
      const parts: Buffer[] = [];
      for (let i = 0; i < huge.body.length; i += 512 * 1024) parts.push(huge.body.subarray(i, i + 512 * 1024));
      await check(reg.url, { method: 'PUT', path: mpath('huge2', 'man/put'), stream: parts, headers: { 'Content-Type': OCI_MANIFEST } }, { status: 413 });
      await check(reg.url, { method: 'GET', path: mpath('huge2', 'man/put') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
    });

    it('manifest just under 4 MiB -> 201', async () => {
      const base = raw({ ...img.json, annotations: { pad: '' } }, OCI_MANIFEST);
      const pad = 4 * 1024 * 1024 - base.body.length;
      const near = raw({ ...img.json, annotations: { pad: 'z'.repeat(pad) } }, OCI_MANIFEST);
      assert.equal(near.body.length, 4 * 1024 * 1024);
      await check(reg.url, { method: 'PUT', path: mpath('near', 'man/put'), body: near.body, headers: { 'Content-Type': OCI_MANIFEST } }, created(near));
    });

    it('a tag moves to the manifest PUT last', async () => {
      await check(reg.url, { method: 'PUT', path: mpath('moving', 'man/put'), body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }, created(img));
      await check(reg.url, { method: 'PUT', path: mpath('moving', 'man/put'), body: img2.body, headers: { 'Content-Type': OCI_MANIFEST } }, created(img2));
      await check(reg.url, { method: 'GET', path: mpath('moving', 'man/put') }, { status: 200, body: img2.body, headers: { 'docker-content-digest': img2.digest } });
      await check(reg.url, { method: 'GET', path: mpath(img.digest, 'man/put') }, { status: 200, body: img.body });
    });
  });

  describe(`manifest PUT of layer URLs with Distribution's default validation (${driver})`, () => {
    let reg: TestRegistry;
    let off: TestRegistry;
    const https = withLayers(missingAt(DOCKER_FOREIGN, ['https://example.com/layer']), { mediaType: OCI_LAYER, digest: layer.digest, size: layer.size });
    const file = withLayers(missingAt(DOCKER_FOREIGN, ['file:///etc/passwd']));
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      off = await startTestRegistry({ storage: driver, configure: (c) => { c.validation.disabled = true; } });
      for (const r of [reg, off]) for (const b of [config, layer]) await pushBlob(r.url, 'man/urls', b);
    });
    after(async () => {
      await reg.close();
      await off.close();
    });
    const rows: Array<[string, () => TestRegistry, Manifest, Expect]> = [
      ['validation on, no allow list: no URL is accepted -> 400 MANIFEST_INVALID', () => reg, https, { status: 400, code: 'MANIFEST_INVALID' }],
      ['validation disabled: an https URL is accepted -> 201', () => off, https, created(https, 'man/urls')],
      ['validation disabled: a file:// URL is still refused -> 400 MANIFEST_INVALID', () => off, file, { status: 400, code: 'MANIFEST_INVALID' }],
    ];
    for (const [name, r, m, expect] of rows) {
      it(name, async () => {
        await check(r().url, { method: 'PUT', path: mpath('v1', 'man/urls'), body: m.body, headers: { 'Content-Type': OCI_MANIFEST } }, expect, name);
        if (expect.status !== 201) await check(r().url, { method: 'GET', path: mpath(m.digest, 'man/urls') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
      });
    }
  });

  describe(`manifest DELETE (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      for (const b of [config, layer, layer2]) await pushBlob(reg.url, 'man/del', b);
    });
    after(async () => { await reg.close(); });

    const tags = async (): Promise<string[]> => {
      const r = await send(reg.url, { method: 'GET', path: '/v2/man/del/tags/list' });
      return (JSON.parse(r.body.toString()) as { tags: string[] }).tags;
    };

    it('DELETE by digest -> 202, removes the manifest and every tag pointing at it', async () => {
      for (const t of ['a', 'b']) await pushManifest(reg.url, 'man/del', t, img);
      await pushManifest(reg.url, 'man/del', 'keep', img2);
      await check(reg.url, { method: 'DELETE', path: mpath(img.digest, 'man/del') }, { status: 202, headers: { 'content-length': '0' } });
      await check(reg.url, { method: 'GET', path: mpath(img.digest, 'man/del') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
      await check(reg.url, { method: 'HEAD', path: mpath('a', 'man/del') }, { status: 404 });
      await check(reg.url, { method: 'GET', path: mpath('b', 'man/del') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
      await check(reg.url, { method: 'GET', path: mpath('keep', 'man/del') }, { status: 200, body: img2.body });
      assert.deepEqual(await tags(), ['keep']);
      await check(reg.url, { method: 'DELETE', path: mpath(img.digest, 'man/del') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
    });

    it('DELETE by tag -> 202, removes only that tag', async () => {
      await pushManifest(reg.url, 'man/del', 'x', img);
      await pushManifest(reg.url, 'man/del', 'y', img);
      await check(reg.url, { method: 'DELETE', path: mpath('x', 'man/del') }, { status: 202 });
      await check(reg.url, { method: 'GET', path: mpath('x', 'man/del') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
      await check(reg.url, { method: 'GET', path: mpath('y', 'man/del') }, { status: 200, body: img.body });
      await check(reg.url, { method: 'GET', path: mpath(img.digest, 'man/del') }, { status: 200, body: img.body });
      assert.deepEqual(await tags(), ['keep', 'y']);
      await check(reg.url, { method: 'DELETE', path: mpath('x', 'man/del') }, { status: 404, code: 'MANIFEST_UNKNOWN' });
    });

    it('a deleted manifest can be pushed again', async () => {
      await pushManifest(reg.url, 'man/del', 'again', img);
      await check(reg.url, { method: 'DELETE', path: mpath(img.digest, 'man/del') }, { status: 202 });
      await check(reg.url, { method: 'PUT', path: mpath('again', 'man/del'), body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }, created(img, 'man/del'));
      await check(reg.url, { method: 'GET', path: mpath('again', 'man/del') }, { status: 200, body: img.body });
    });

    const rows: Row[] = [
      { name: 'DELETE unknown digest -> 404 MANIFEST_UNKNOWN', call: { method: 'DELETE', path: mpath(UNKNOWN_DIGEST, 'man/del') }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
      { name: 'DELETE unknown tag -> 404 MANIFEST_UNKNOWN', call: { method: 'DELETE', path: mpath('never', 'man/del') }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
      { name: 'DELETE in an unknown repository -> 404', call: { method: 'DELETE', path: mpath(img2.digest, 'man/none') }, expect: { status: 404, code: 'MANIFEST_UNKNOWN' } },
      { name: 'DELETE malformed digest -> 400 DIGEST_INVALID', call: { method: 'DELETE', path: mpath('sha256:zz', 'man/del') }, expect: { status: 400, code: 'DIGEST_INVALID' } },
      { name: 'DELETE invalid tag -> 400 MANIFEST_INVALID', call: { method: 'DELETE', path: mpath('-x', 'man/del') }, expect: { status: 400, code: 'MANIFEST_INVALID' } },
    ];
    for (const row of rows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });
  });

  describe(`manifest DELETE when deletion is disabled (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver, deleteEnabled: false });
      for (const b of [config, layer]) await pushBlob(reg.url, 'man/keep', b);
      await pushManifest(reg.url, 'man/keep', 'v1', img);
    });
    after(async () => { await reg.close(); });
    const rows: Row[] = [
      { name: 'DELETE by digest -> 405 UNSUPPORTED', call: { method: 'DELETE', path: mpath(img.digest, 'man/keep') }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'DELETE by tag -> 405 UNSUPPORTED', call: { method: 'DELETE', path: mpath('v1', 'man/keep') }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'DELETE unknown digest -> 405 UNSUPPORTED', call: { method: 'DELETE', path: mpath(UNKNOWN_DIGEST, 'man/keep') }, expect: { status: 405, code: 'UNSUPPORTED' } },
      { name: 'the manifest is still served by tag', call: { method: 'GET', path: mpath('v1', 'man/keep') }, expect: { status: 200, body: img.body } },
      { name: 'the manifest is still served by digest', call: { method: 'GET', path: mpath(img.digest, 'man/keep') }, expect: { status: 200, body: img.body } },
      { name: 'PUT still works', call: { method: 'PUT', path: mpath('v2', 'man/keep'), body: img.body, headers: { 'Content-Type': OCI_MANIFEST } }, expect: created(img, 'man/keep') },
    ];
    for (const row of rows) it(row.name, async () => { await check(reg.url, row.call, row.expect, row.name); });
  });
}
