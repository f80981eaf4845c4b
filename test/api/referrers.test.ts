// The referrers API: GET /v2/<name>/referrers/<digest>, with and without artifactType filter,
// kept up to date on manifest PUT and DELETE.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import {
  artifact, blob, EMPTY_CONFIG, imageManifest, OCI_INDEX, OCI_MANIFEST, sha256, type Manifest,
} from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { check, DRIVERS, send, UNKNOWN_DIGEST, type Row } from '../support/api-table.js';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

interface ReferrersRow extends Row {
  /** The referrers the index must list (any order). */
  lists?: Descriptor[];
}

function raw(json: Record<string, unknown>, mediaType: string): Manifest {
  const body = Buffer.from(JSON.stringify(json));
  return { body, digest: sha256(body), mediaType, json };
}

const descriptorOf = (m: Manifest, artifactType: string, annotations?: Record<string, string>): Descriptor => ({
  mediaType: m.mediaType, digest: m.digest, size: m.body.length, artifactType, ...(annotations ? { annotations } : {}),
});

const REPO = 'ref/app';
const config = blob('{"architecture":"arm64","os":"linux"}');
const layer = blob('subject layer');
const payload = blob('artifact payload');
const subject = imageManifest(config, [layer]);
const SBOM = 'application/vnd.example.sbom.v1+json';
const SIG = 'application/vnd.example.signature.v1';
const sbom = artifact(subject, SBOM, payload, { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', 'org.example.tool': 'syft' });
const sig = artifact(subject, SIG, payload);
// An image manifest with a subject and no artifactType: its config media type stands in.
const plain = imageManifest(config, [payload], { subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length } });
// An index with a subject and an artifactType.
const indexArtifact = raw({
  schemaVersion: 2, mediaType: OCI_INDEX, artifactType: 'application/vnd.example.bundle',
  manifests: [{ mediaType: OCI_MANIFEST, digest: sig.digest, size: sig.body.length }],
  subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length },
  annotations: { 'org.example.bundle': 'yes' },
}, OCI_INDEX);
// A referrer of a referrer.
const sigOfSbom = artifact(sbom, SIG, payload);
// A referrer whose subject was never pushed.
const ghost = raw({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }, OCI_MANIFEST);
const orphan = artifact(ghost, SIG, payload);

const all: Descriptor[] = [
  descriptorOf(sbom, SBOM, sbom.json.annotations as Record<string, string>),
  descriptorOf(sig, SIG),
  descriptorOf(plain, 'application/vnd.oci.image.config.v1+json'),
  descriptorOf(indexArtifact, 'application/vnd.example.bundle', { 'org.example.bundle': 'yes' }),
];

const refs = (digest: string, query = '', repo = REPO): string => `/v2/${repo}/referrers/${digest}${query}`;
const INDEX_HEADERS = { 'content-type': OCI_INDEX };

const rows: ReferrersRow[] = [
  { name: 'lists every referrer with artifactType, annotations, size, digest, mediaType', call: { method: 'GET', path: refs(subject.digest) }, expect: { status: 200, headers: { ...INDEX_HEADERS, 'oci-filters-applied': null } }, lists: all },
  { name: 'artifactType filter -> only matching, OCI-Filters-Applied', call: { method: 'GET', path: refs(subject.digest, `?artifactType=${encodeURIComponent(SBOM)}`) }, expect: { status: 200, headers: { ...INDEX_HEADERS, 'oci-filters-applied': 'artifactType' } }, lists: [all[0]!] },
  { name: 'artifactType filter on the config media type', call: { method: 'GET', path: refs(subject.digest, '?artifactType=application/vnd.oci.image.config.v1%2Bjson') }, expect: { status: 200, headers: { 'oci-filters-applied': 'artifactType' } }, lists: [all[2]!] },
  { name: 'artifactType filter matching nothing -> empty, OCI-Filters-Applied', call: { method: 'GET', path: refs(subject.digest, '?artifactType=application/x-none') }, expect: { status: 200, headers: { ...INDEX_HEADERS, 'oci-filters-applied': 'artifactType' } }, lists: [] },
  { name: 'referrers of a referrer', call: { method: 'GET', path: refs(sbom.digest) }, expect: { status: 200, headers: INDEX_HEADERS }, lists: [descriptorOf(sigOfSbom, SIG)] },
  { name: 'a subject that was never pushed still lists its referrers', call: { method: 'GET', path: refs(ghost.digest) }, expect: { status: 200, headers: INDEX_HEADERS }, lists: [descriptorOf(orphan, SIG)] },
  { name: 'unknown subject -> 200 empty list', call: { method: 'GET', path: refs(UNKNOWN_DIGEST) }, expect: { status: 200, headers: INDEX_HEADERS }, lists: [] },
  { name: 'a manifest without referrers -> 200 empty list', call: { method: 'GET', path: refs(sig.digest) }, expect: { status: 200, headers: INDEX_HEADERS }, lists: [] },
  { name: 'another repository does not see them', call: { method: 'GET', path: refs(subject.digest, '', 'ref/other') }, expect: { status: 200, headers: INDEX_HEADERS }, lists: [] },
  { name: 'unknown repository -> 200 empty list', call: { method: 'GET', path: refs(subject.digest, '', 'ref/none') }, expect: { status: 200, headers: INDEX_HEADERS }, lists: [] },
  { name: 'invalid digest -> 400 DIGEST_INVALID', call: { method: 'GET', path: refs('sha256:abc') }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'a tag instead of a digest -> 400', call: { method: 'GET', path: refs('latest') }, expect: { status: 400, code: 'DIGEST_INVALID' } },
  { name: 'unsupported algorithm -> 400', call: { method: 'GET', path: refs(`md5:${'a'.repeat(32)}`) }, expect: { status: 400, code: 'DIGEST_INVALID' } },
];

function assertLists(body: Buffer, want: Descriptor[]): void {
  const doc = JSON.parse(body.toString('utf8')) as { schemaVersion: number; mediaType: string; manifests: Descriptor[] };
  assert.equal(doc.schemaVersion, 2);
  assert.equal(doc.mediaType, OCI_INDEX);
  const byDigest = (a: Descriptor, b: Descriptor): number => a.digest.localeCompare(b.digest);
  assert.deepEqual([...doc.manifests].sort(byDigest), [...want].sort(byDigest));
}

for (const driver of DRIVERS) {
  describe(`referrers (${driver})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry({ storage: driver });
      for (const b of [config, layer, payload, EMPTY_CONFIG]) await pushBlob(reg.url, REPO, b);
      await pushBlob(reg.url, 'ref/other', config);
      await pushManifest(reg.url, REPO, 'v1', subject);
      for (const m of [sbom, sig, plain, indexArtifact, sigOfSbom, orphan]) {
        const res = await pushManifest(reg.url, REPO, m.digest, m);
        assert.ok(res.headers.get('oci-subject'), `PUT of a referrer answers OCI-Subject (${m.digest})`);
      }
    });
    after(async () => { await reg.close(); });

    for (const row of rows) {
      it(row.name, async () => {
        const reply = await check(reg.url, row.call, row.expect, row.name);
        if (row.lists) assertLists(reply.body, row.lists);
      });
    }

    describe('the list follows PUT and DELETE', () => {
      const note = artifact(subject, 'application/vnd.example.note', payload, { n: '1' });
      it('a new referrer appears', async () => {
        await check(reg.url, { method: 'PUT', path: `/v2/${REPO}/manifests/note`, body: note.body, headers: { 'Content-Type': OCI_MANIFEST } }, { status: 201, headers: { 'oci-subject': subject.digest } });
        const r = await check(reg.url, { method: 'GET', path: refs(subject.digest) }, { status: 200 });
        assertLists(r.body, [...all, descriptorOf(note, 'application/vnd.example.note', { n: '1' })]);
      });
      it('deleting only its tag keeps it listed', async () => {
        await check(reg.url, { method: 'DELETE', path: `/v2/${REPO}/manifests/note` }, { status: 202 });
        const r = await check(reg.url, { method: 'GET', path: refs(subject.digest) }, { status: 200 });
        assertLists(r.body, [...all, descriptorOf(note, 'application/vnd.example.note', { n: '1' })]);
      });
      it('deleting referrer manifests by digest removes them from the list', async () => {
        for (const m of [note, sbom]) await check(reg.url, { method: 'DELETE', path: `/v2/${REPO}/manifests/${m.digest}` }, { status: 202 });
        const r = await check(reg.url, { method: 'GET', path: refs(subject.digest) }, { status: 200 });
        assertLists(r.body, all.slice(1));
        const filtered = await check(reg.url, { method: 'GET', path: refs(subject.digest, `?artifactType=${encodeURIComponent(SBOM)}`) }, { status: 200, headers: { 'oci-filters-applied': 'artifactType' } });
        assertLists(filtered.body, []);
      });
      it('a re-pushed referrer is listed again', async () => {
        await pushManifest(reg.url, REPO, sbom.digest, sbom);
        const r = await send(reg.url, { method: 'GET', path: refs(subject.digest, `?artifactType=${encodeURIComponent(SBOM)}`) });
        assertLists(r.body, [all[0]!]);
      });
    });
  });
}
