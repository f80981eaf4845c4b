// Manifest and index parsing: what the registry must know about a pushed manifest (its kind, the
// blobs and manifests it needs, its subject and artifact type), and which documents it refuses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { digestOf } from '../../src/oci/digest.js';
import { InvalidManifestError, parseManifest, type Descriptor } from '../../src/oci/manifest.js';
import { MediaType, SUPPORTED_MANIFEST_TYPES, baseMediaType, manifestKindOf } from '../../src/oci/media-types.js';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const DOCKER_FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

function desc(mediaType: string, content: string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestOf(content).value, size: Buffer.byteLength(content), ...extra };
}

const json = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const invalid = (pattern?: RegExp) => (err: unknown) =>
  err instanceof InvalidManifestError && (pattern === undefined || pattern.test(err.message));

const config = desc(OCI_CONFIG, '{"architecture":"amd64"}');
const layer1 = desc(OCI_LAYER, 'layer one');
const layer2 = desc(OCI_LAYER, 'layer two');

function ociManifest(extra: Record<string, unknown> = {}) {
  return { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer1, layer2], ...extra };
}

describe('parseManifest: OCI image manifest', () => {
  it('needs its config and layers as blobs, and takes the config media type as artifact type', () => {
    const m = parseManifest(json(ociManifest()), MediaType.ociManifest);
    assert.equal(m.mediaType, MediaType.ociManifest);
    assert.equal(m.kind, 'image');
    assert.deepEqual(m.blobs, [config, layer1, layer2]);
    assert.deepEqual(m.manifests, []);
    assert.equal(m.subject, undefined);
    assert.equal(m.artifactType, OCI_CONFIG);
  });

  it('takes its media type from Content-Type when the document has none', () => {
    const { mediaType: _omit, ...doc } = ociManifest();
    assert.equal(parseManifest(json(doc), MediaType.ociManifest).mediaType, MediaType.ociManifest);
  });

  it('ignores Content-Type parameters and case', () => {
    const m = parseManifest(json(ociManifest()), 'Application/VND.oci.image.manifest.v1+json; charset=utf-8');
    assert.equal(m.kind, 'image');
  });

  it('is recognised without mediaType or a specific Content-Type, by its config', () => {
    const { mediaType: _omit, ...doc } = ociManifest();
    for (const ct of [undefined, '', 'application/json', 'application/octet-stream']) {
      assert.equal(parseManifest(json(doc), ct).mediaType, MediaType.ociManifest, String(ct));
    }
  });

  it('accepts a generic Content-Type with a declared mediaType', () => {
    assert.equal(parseManifest(json(ociManifest()), 'application/json').mediaType, MediaType.ociManifest);
  });

  it('keeps annotations and descriptor fields (annotations, platform, artifactType)', () => {
    const annotated = { ...layer1, annotations: { 'org.opencontainers.image.title': 'one' } };
    const m = parseManifest(json(ociManifest({ layers: [annotated], annotations: { a: 'b' } })), MediaType.ociManifest);
    assert.deepEqual(m.annotations, { a: 'b' });
    assert.deepEqual(m.blobs[1], annotated);
  });

  it('accepts a manifest with no layers at all', () => {
    const m = parseManifest(json(ociManifest({ layers: [] })), MediaType.ociManifest);
    assert.deepEqual(m.blobs, [config]);
  });
});

describe('parseManifest: OCI index', () => {
  const child1 = desc(MediaType.ociManifest, 'child one', { platform: { architecture: 'amd64', os: 'linux' } });
  const child2 = desc(MediaType.ociManifest, 'child two', { platform: { architecture: 'arm64', os: 'linux' } });
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [child1, child2] };

  it('needs its child manifests and no blobs', () => {
    const m = parseManifest(json(index), MediaType.ociIndex);
    assert.equal(m.kind, 'index');
    assert.deepEqual(m.blobs, []);
    assert.deepEqual(m.manifests, [child1, child2]);
    assert.equal(m.artifactType, undefined);
  });

  it('is recognised without mediaType or Content-Type by its manifests array', () => {
    const { mediaType: _omit, ...doc } = index;
    assert.equal(parseManifest(json(doc)).mediaType, MediaType.ociIndex);
  });

  it('may be empty', () => {
    assert.deepEqual(parseManifest(json({ ...index, manifests: [] }), MediaType.ociIndex).manifests, []);
  });

  it('requires a manifests array', () => {
    assert.throws(() => parseManifest(json({ schemaVersion: 2, mediaType: MediaType.ociIndex }), MediaType.ociIndex),
      invalid(/manifests/));
  });
});

describe('parseManifest: Docker schema2 and manifest list', () => {
  const dconfig = desc(DOCKER_CONFIG, '{"os":"linux"}');
  const dlayer = desc(DOCKER_LAYER, 'docker layer');
  const docker = { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: dconfig, layers: [dlayer] };

  it('parses a schema2 image manifest', () => {
    const m = parseManifest(json(docker), MediaType.dockerManifest);
    assert.equal(m.kind, 'image');
    assert.equal(m.mediaType, MediaType.dockerManifest);
    assert.deepEqual(m.blobs, [dconfig, dlayer]);
  });

  it('requires a schema2 manifest to declare its mediaType', () => {
    const { mediaType: _omit, ...doc } = docker;
    assert.throws(() => parseManifest(json(doc), MediaType.dockerManifest), invalid(/mediaType/));
  });

  it('requires the layers of a schema2 manifest', () => {
    const { layers: _omit, ...doc } = docker;
    assert.throws(() => parseManifest(json(doc), MediaType.dockerManifest), invalid(/layers/));
  });

  it('excludes foreign layers (with urls) from the blobs the repository must hold', () => {
    const foreign = desc(DOCKER_FOREIGN, 'windows base layer', { urls: ['https://example.com/layer.tar.gz'] });
    const emptyUrls = desc(DOCKER_LAYER, 'ordinary layer', { urls: [] });
    const m = parseManifest(json({ ...docker, layers: [foreign, dlayer, emptyUrls] }), MediaType.dockerManifest);
    assert.deepEqual(m.blobs, [dconfig, dlayer, emptyUrls]);
  });

  it('excludes OCI non-distributable layers with urls too', () => {
    const foreign = desc('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'nd', { urls: ['https://example.com/nd'] });
    const m = parseManifest(json(ociManifest({ layers: [layer1, foreign] })), MediaType.ociManifest);
    assert.deepEqual(m.blobs, [config, layer1]);
  });

  it('keeps ordinary layers with urls among the blobs the repository must hold (only non-distributable ones live elsewhere)', () => {
    const withUrls = desc('application/vnd.oci.image.layer.v1.tar+gzip', 'ordinary', { urls: ['https://example.com/l'] });
    const nd = desc('application/vnd.oci.image.layer.nondistributable.v1.tar', 'nd', { urls: ['https://example.com/nd'] });
    const m = parseManifest(json(ociManifest({ layers: [withUrls, nd] })), MediaType.ociManifest);
    assert.deepEqual(m.blobs, [config, withUrls]);
    assert.deepEqual(m.external, [nd]);
  });

  it('parses a manifest list as an index of its children', () => {
    const child = desc(MediaType.dockerManifest, 'child', { platform: { architecture: 'amd64', os: 'linux' } });
    const list = { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [child] };
    const m = parseManifest(json(list), MediaType.dockerManifestList);
    assert.equal(m.kind, 'index');
    assert.deepEqual(m.manifests, [child]);
    assert.deepEqual(m.blobs, []);
  });

  it('requires a manifest list to declare its mediaType', () => {
    const child = desc(MediaType.dockerManifest, 'child');
    assert.throws(() => parseManifest(json({ schemaVersion: 2, manifests: [child] }), MediaType.dockerManifestList),
      invalid(/mediaType/));
  });
});

describe('parseManifest: artifacts and subject', () => {
  const empty = desc(MediaType.ociEmpty, '{}');
  const subject = desc(MediaType.ociManifest, 'the image this refers to');

  it('reads artifactType and subject from an artifact manifest', () => {
    const sig = desc('application/vnd.example.signature', 'sig');
    const doc = ociManifest({ artifactType: 'application/vnd.example.sbom', config: empty, layers: [sig], subject });
    const m = parseManifest(json(doc), MediaType.ociManifest);
    assert.equal(m.artifactType, 'application/vnd.example.sbom');
    assert.deepEqual(m.subject, subject);
    assert.deepEqual(m.blobs, [empty, sig]);
  });

  it('takes a custom config media type as the artifact type when artifactType is absent', () => {
    const custom = desc('application/vnd.example.config.v1+json', '{}');
    const m = parseManifest(json(ociManifest({ config: custom })), MediaType.ociManifest);
    assert.equal(m.artifactType, 'application/vnd.example.config.v1+json');
  });

  it('reads artifactType and subject from an index', () => {
    const child = desc(MediaType.ociManifest, 'child');
    const doc = { schemaVersion: 2, mediaType: MediaType.ociIndex, artifactType: 'application/vnd.example.bundle', manifests: [child], subject };
    const m = parseManifest(json(doc), MediaType.ociIndex);
    assert.equal(m.artifactType, 'application/vnd.example.bundle');
    assert.deepEqual(m.subject, subject);
  });

  it('rejects a subject that is not a descriptor', () => {
    assert.throws(() => parseManifest(json(ociManifest({ subject: 'sha256:abc' })), MediaType.ociManifest), invalid(/subject/));
    assert.throws(() => parseManifest(json(ociManifest({ subject: { ...subject, digest: 'nope' } })), MediaType.ociManifest),
      invalid(/subject\.digest/));
  });

  it('rejects an artifactType that is not a string', () => {
    assert.throws(() => parseManifest(json(ociManifest({ artifactType: 42 })), MediaType.ociManifest), invalid(/artifactType/));
  });
});

describe('parseManifest: refused documents', () => {
  it('refuses a Content-Type that contradicts the declared mediaType', () => {
    assert.throws(() => parseManifest(json(ociManifest()), MediaType.dockerManifest), invalid(/does not match/));
    assert.throws(() => parseManifest(json(ociManifest()), MediaType.ociIndex), invalid(/does not match/));
    assert.throws(() => parseManifest(json(ociManifest()), 'text/plain'), invalid(/does not match/));
  });

  it('refuses Docker schema1, signed or not', () => {
    const schema1 = { schemaVersion: 1, name: 'x', tag: 'latest', architecture: 'amd64', fsLayers: [], history: [] };
    assert.throws(() => parseManifest(json(schema1), MediaType.dockerSchema1Signed), invalid(/schema1/));
    assert.throws(() => parseManifest(json(schema1), MediaType.dockerSchema1), invalid(/schema1/));
    assert.throws(() => parseManifest(json(schema1)), invalid(/schema1/));
  });

  it('refuses a missing or wrong schemaVersion', () => {
    const { schemaVersion: _omit, ...doc } = ociManifest();
    assert.throws(() => parseManifest(json(doc), MediaType.ociManifest), invalid(/schemaVersion/));
    assert.throws(() => parseManifest(json(ociManifest({ schemaVersion: '2' })), MediaType.ociManifest), invalid(/schemaVersion/));
    assert.throws(() => parseManifest(json(ociManifest({ schemaVersion: 3 })), MediaType.ociManifest), invalid(/schemaVersion/));
  });

  it('refuses a media type that is not a manifest', () => {
    assert.throws(() => parseManifest(json(ociManifest({ mediaType: OCI_CONFIG })), OCI_CONFIG), invalid(/unsupported/));
  });

  it('refuses a mediaType that names a member of Object.prototype', () => {
    for (const mediaType of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.throws(() => parseManifest(json(ociManifest({ mediaType })), 'application/json'), invalid(/unsupported/), mediaType);
    }
  });

  it('refuses a document whose kind cannot be told', () => {
    assert.throws(() => parseManifest(json({ schemaVersion: 2 }), 'application/json'), invalid(/cannot tell/));
  });

  it('refuses what is not a JSON object', () => {
    for (const body of ['not json', '[]', 'null', '2', '"string"', '']) {
      assert.throws(() => parseManifest(Buffer.from(body), MediaType.ociManifest), invalid(), body);
    }
  });

  it('refuses a missing config', () => {
    const { config: _omit, ...doc } = ociManifest();
    assert.throws(() => parseManifest(json(doc), MediaType.ociManifest), invalid(/config/));
  });

  it('refuses layers that are not an array', () => {
    assert.throws(() => parseManifest(json(ociManifest({ layers: layer1 })), MediaType.ociManifest), invalid(/layers/));
  });

  it('refuses a mediaType that is not a string', () => {
    assert.throws(() => parseManifest(json(ociManifest({ mediaType: 7 }))), invalid(/mediaType/));
  });

  it('refuses annotations that are not a map of strings', () => {
    assert.throws(() => parseManifest(json(ociManifest({ annotations: { n: 1 } })), MediaType.ociManifest), invalid(/annotations/));
    assert.throws(() => parseManifest(json(ociManifest({ annotations: ['a'] })), MediaType.ociManifest), invalid(/annotations/));
  });

  const badDescriptors: Array<[string, unknown, RegExp]> = [
    ['a missing mediaType', { digest: layer1.digest, size: 1 }, /layers\[1\]\.mediaType/],
    ['an empty mediaType', { ...layer1, mediaType: '' }, /layers\[1\]\.mediaType/],
    ['a missing digest', { mediaType: OCI_LAYER, size: 1 }, /layers\[1\]\.digest/],
    ['a malformed digest', { ...layer1, digest: 'sha256:xyz' }, /layers\[1\]\.digest/],
    ['an uppercase digest', { ...layer1, digest: layer1.digest.toUpperCase() }, /layers\[1\]\.digest/],
    ['an unknown digest algorithm', { ...layer1, digest: `md5:${'a'.repeat(32)}` }, /layers\[1\]\.digest/],
    ['a missing size', { mediaType: OCI_LAYER, digest: layer1.digest }, /layers\[1\]\.size/],
    ['a negative size', { ...layer1, size: -1 }, /layers\[1\]\.size/],
    ['a fractional size', { ...layer1, size: 1.5 }, /layers\[1\]\.size/],
    ['a size given as a string', { ...layer1, size: '9' }, /layers\[1\]\.size/],
    ['urls that are not strings', { ...layer1, urls: [1] }, /layers\[1\]\.urls/],
    ['urls that are not an array', { ...layer1, urls: 'https://example.com' }, /layers\[1\]\.urls/],
    ['annotations with a non-string value', { ...layer1, annotations: { a: true } }, /layers\[1\]\.annotations/],
    ['a descriptor that is an array', [layer1], /layers\[1\]/],
    ['a descriptor that is null', null, /layers\[1\]/],
  ];
  for (const [what, bad, pattern] of badDescriptors) {
    it(`refuses a layer descriptor with ${what}, naming the field`, () => {
      assert.throws(() => parseManifest(json(ociManifest({ layers: [layer1, bad] })), MediaType.ociManifest), invalid(pattern));
    });
  }

  it('refuses a bad descriptor in an index, naming it', () => {
    const doc = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, size: 3 }] };
    assert.throws(() => parseManifest(json(doc), MediaType.ociIndex), invalid(/manifests\[0\]\.digest/));
  });

  it('refuses a bad config descriptor, naming it', () => {
    assert.throws(() => parseManifest(json(ociManifest({ config: { ...config, size: -5 } })), MediaType.ociManifest),
      invalid(/config\.size/));
  });
});

describe('media types', () => {
  it('knows the four manifest media types and their kinds', () => {
    assert.deepEqual([...SUPPORTED_MANIFEST_TYPES].sort(), [
      MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociIndex, MediaType.ociManifest,
    ].sort());
    assert.equal(manifestKindOf(MediaType.ociIndex), 'index');
    assert.equal(manifestKindOf(MediaType.dockerManifest), 'image');
    assert.equal(manifestKindOf(MediaType.dockerSchema1Signed), undefined);
    assert.equal(manifestKindOf('toString'), undefined);
    assert.equal(manifestKindOf('constructor'), undefined);
  });

  it('baseMediaType strips parameters, spaces and case', () => {
    assert.equal(baseMediaType(' Application/JSON ; charset=utf-8'), 'application/json');
    assert.equal(baseMediaType(undefined), '');
  });
});
