// Signatures made by the real tools, not by Berth or by this project's fixture builders: the
// signed test material the Notary Project and Sigstore publish in their own repositories
// (test/trust/fixtures/README.md says where each file comes from and under which licence).
// Each image and its signature are pushed byte for byte, read under an enforcing policy (served
// once signed, by the HTTP API and by skopeo), then the signature is tampered with (payload,
// digest, signature, certificate, identity) and every tampered copy must be refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, sha256, imageManifest, DOCKER_MANIFEST, OCI_MANIFEST, type Blob, type Manifest } from '../support/oci-fixtures.js';
import { pushBlob, pushImage, pushManifest } from '../support/push.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { skopeoRun } from '../e2e/support/skopeo.js';
import { pushBundle } from './support/fixtures.js';
import { FIXTURES, NOTATION, asManifest, fixture } from './support/published.js';

const gate = requireClients('skopeo');
it('has the client it drives installed (skopeo)', { skip: gate.skip }, () => gate.assertPresent());

const asBlob = (data: Buffer): Blob => blob(data);

// cosign v3 (sigstore/cosign pkg/cosign/testdata): `cosign attest` of go-containerregistry's
// empty image, a Sigstore bundle logged in the public Rekor, checked offline with the public-good
// trusted root (as sigstore-python ships it). The empty image is rebuilt here: its digest must be
// the one the bundle's statement names.
const BUNDLE = fixture('cosign-v3/oci-attestation.sigstore.json').toString('utf8');
const SIGSTORE_ROOT = join(FIXTURES, 'cosign-v3/trusted_root.json');
const EMPTY_CONFIG_JSON = Buffer.from('{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":null},"config":{}}');
const EMPTY_IMAGE_DIGEST = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4';

let reg: TestRegistry;
let work: string;

before(async () => {
  work = await tempDir('trust-published');
  // A trust store that does not hold the e2e certificate (it holds Sigstore's Fulcio root).
  const otherStore = join(work, 'other-store', 'x509', 'ca', 'other');
  await mkdir(otherStore, { recursive: true });
  const fulcioRoot = (JSON.parse(readFileSync(SIGSTORE_ROOT, 'utf8')) as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] })
    .certificateAuthorities[0]!.certChain.certificates[0]!.rawBytes;
  await writeFile(join(otherStore, 'fulcio.pem'), new X509Certificate(Buffer.from(fulcioRoot, 'base64')).toString());
  const cody = [{ subject: 'cody@soyland.com', issuer: 'https://github.com/login/oauth' }];
  reg = await startTestRegistry({
    configure: (c) => {
      c.trust.policies = [
        { name: 'notary', repositories: ['notary/*'], mode: 'enforce', keys: [], notation: { truststore: join(FIXTURES, 'notation/truststore'), identities: [NOTATION.subject] }, exempt: [] },
        { name: 'notary-other-store', repositories: ['other-store/*'], mode: 'enforce', keys: [], notation: { truststore: join(work, 'other-store'), identities: ['*'] }, exempt: [] },
        { name: 'notary-other-signer', repositories: ['other-signer/*'], mode: 'enforce', keys: [], notation: { truststore: join(FIXTURES, 'notation/truststore'), identities: ['x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=release'] }, exempt: [] },
        { name: 'cosign-v3', repositories: ['bundles/*'], mode: 'enforce', keys: [], sigstore: { trustedroot: SIGSTORE_ROOT, identities: cody, tlogthreshold: 1 }, exempt: [] },
        { name: 'cosign-v3-other-signer', repositories: ['bundles-strict/*'], mode: 'enforce', keys: [], sigstore: { trustedroot: SIGSTORE_ROOT, identities: [{ subject: 'release@example.com' }], tlogthreshold: 1 }, exempt: [] },
      ];
    },
  });
});

after(async () => {
  await reg?.close();
  await removeDir(work);
});

async function read(repo: string, ref: string) {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers: { accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` } });
  const text = await res.text();
  return { status: res.status, digest: res.headers.get('docker-content-digest'), text };
}

async function verdict(repo: string, digest: string) {
  return (await reg.server.trust!.verdict(repo, digest, { fresh: true }))!.verdict;
}

/** The published image pushed byte for byte (the registry checks every digest). */
async function pushNotationImage(repo: string): Promise<void> {
  for (const b of [NOTATION.config, NOTATION.layer]) await pushBlob(reg.url, repo, asBlob(b));
  await pushManifest(reg.url, repo, 'v1', asManifest(NOTATION.image, OCI_MANIFEST));
}

/** notation's signature manifest with `envelope` as its layer (the published one when unchanged). */
async function pushNotationSignature(repo: string, envelope: Buffer, subject = asManifest(NOTATION.image, OCI_MANIFEST)): Promise<string> {
  await pushBlob(reg.url, repo, asBlob(NOTATION.config));
  const env = asBlob(envelope);
  await pushBlob(reg.url, repo, env);
  let body = NOTATION.signatureManifest;
  if (!envelope.equals(NOTATION.envelope) || subject.digest !== sha256(NOTATION.image)) {
    const json = JSON.parse(body.toString('utf8')) as { layers: { digest: string; size: number }[]; subject: { digest: string; size: number; mediaType: string } };
    json.layers[0] = { ...json.layers[0]!, digest: env.digest, size: env.size };
    json.subject = { mediaType: subject.mediaType, digest: subject.digest, size: subject.body.length };
    body = Buffer.from(JSON.stringify(json));
  }
  await pushManifest(reg.url, repo, sha256(body), asManifest(body, OCI_MANIFEST));
  return sha256(body);
}

/** The envelope with one field changed (`mutate` edits the parsed JWS). */
function tamperedEnvelope(mutate: (jws: { payload: string; signature: string; header: { x5c: string[] } }) => void): Buffer {
  const jws = JSON.parse(NOTATION.envelope.toString('utf8')) as { payload: string; signature: string; header: { x5c: string[] } };
  mutate(jws);
  return Buffer.from(JSON.stringify(jws));
}

/** Flips one character in the middle of a base64/base64url string. */
function flip(text: string): string {
  const at = Math.floor(text.length / 2);
  return text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
}

describe('Notation: an image signed by the notation CLI (notaryproject/notation e2e testdata)', () => {
  const digest = sha256(NOTATION.image);

  it('refuses the image before its signature is pushed, serves it after, to HTTP and to skopeo', async () => {
    await pushNotationImage('notary/e2e');
    const refused = await read('notary/e2e', 'v1');
    assert.equal(refused.status, 403);
    assert.match(refused.text, /"DENIED"/);
    assert.match(refused.text, /policy \\"notary\\" requires a valid signature on notary\/e2e@sha256:b8479de3/);

    const sigDigest = await pushNotationSignature('notary/e2e', NOTATION.envelope);
    assert.equal(sigDigest, 'sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f', 'the published signature manifest, unchanged');
    const served = await read('notary/e2e', 'v1');
    assert.equal(served.status, 200);
    assert.equal(served.digest, digest);
    const v = await verdict('notary/e2e', digest);
    assert.equal(v.verified, true, JSON.stringify(v));
    assert.equal(v.signer?.kind, 'notation');
    assert.equal(v.signer?.via, 'referrers');
    assert.equal(v.signer?.manifest, sigDigest);
    assert.match(v.signer!.by, /^Notation x509\.subject C=US, ST=WA, L=Seattle, O=Notary, CN=e2e$/);

    gate.assertPresent();
    const inspected = await skopeoRun(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/notary/e2e:v1`]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(sha256(Buffer.from(inspected.stdout)), digest, 'skopeo got the published manifest');
  });

  const tampered: [string, string, () => Buffer, RegExp][] = [
    ['payload (the signed target size changed)', 'notary/t-payload', () => tamperedEnvelope((j) => {
      j.payload = Buffer.from(Buffer.from(j.payload, 'base64url').toString('utf8').replace('"size":517', '"size":518')).toString('base64url');
    }), /Notation signature does not verify: signature verification failed/],
    ['signature (one character flipped)', 'notary/t-signature', () => tamperedEnvelope((j) => {
      j.signature = flip(j.signature);
    }), /Notation signature does not verify: signature verification failed/],
    ['certificate (x5c swapped for another certificate)', 'notary/t-certificate', () => tamperedEnvelope((j) => {
      const root = JSON.parse(readFileSync(SIGSTORE_ROOT, 'utf8')) as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
      j.header.x5c = [root.certificateAuthorities[1]!.certChain.certificates[0]!.rawBytes];
    }), /Notation signature does not verify/],
  ];
  for (const [what, repo, envelope, reason] of tampered) {
    it(`refuses a tampered ${what}`, async () => {
      await pushNotationImage(repo);
      await pushNotationSignature(repo, envelope());
      const got = await read(repo, 'v1');
      assert.equal(got.status, 403, got.text);
      const v = await verdict(repo, digest);
      assert.equal(v.verified, false);
      assert.equal(v.rejected.length, 1, JSON.stringify(v));
      assert.match(v.rejected[0]!.reason, reason);
    });
  }

  it('refuses the genuine signature attached to another image (digest)', async () => {
    const config = blob('{}');
    const other = imageManifest(config, [blob('another image\n')]);
    await pushImage(reg.url, 'notary/t-digest', 'v1', config, [blob('another image\n')], other);
    await pushNotationSignature('notary/t-digest', NOTATION.envelope, other);
    assert.equal((await read('notary/t-digest', 'v1')).status, 403);
    const v = await verdict('notary/t-digest', other.digest);
    assert.match(v.rejected[0]!.reason, new RegExp(`the Notation payload signs ${digest}, not ${other.digest}`));
  });

  it('refuses the genuine signature when the trust store lacks its certificate, or the signer is not trusted', async () => {
    for (const [repo, reason] of [['other-store/e2e', /does not chain to a configured root/], ['other-signer/e2e', /signed by x509\.subject .*CN=e2e, not a trusted identity/]] as const) {
      await pushNotationImage(repo);
      await pushNotationSignature(repo, NOTATION.envelope);
      assert.equal((await read(repo, 'v1')).status, 403);
      assert.match((await verdict(repo, digest)).rejected[0]!.reason, reason);
    }
  });
});

describe('cosign v3: a Sigstore bundle made by cosign attest (sigstore/cosign testdata), public-good trusted root', () => {
  const config = asBlob(EMPTY_CONFIG_JSON);
  const emptyImage = Buffer.from(`{"schemaVersion":2,"mediaType":"${DOCKER_MANIFEST}","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":${config.size},"digest":"${config.digest}"},"layers":[]}`);
  const subject = asManifest(emptyImage, DOCKER_MANIFEST);

  async function pushEmptyImage(repo: string): Promise<void> {
    await pushBlob(reg.url, repo, config);
    await pushManifest(reg.url, repo, 'v1', subject);
  }

  it('rebuilds the image the bundle names (go-containerregistry empty.Image)', () => {
    assert.equal(subject.digest, EMPTY_IMAGE_DIGEST);
    const statement = JSON.parse(Buffer.from((JSON.parse(BUNDLE) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString('utf8')) as { subject: { digest: { sha256: string } }[] };
    assert.equal(`sha256:${statement.subject[0]!.digest.sha256}`, EMPTY_IMAGE_DIGEST);
  });

  it('refuses the image unsigned, serves it once the published bundle is its referrer', async () => {
    await pushEmptyImage('bundles/empty');
    assert.equal((await read('bundles/empty', 'v1')).status, 403);
    await pushBundle(reg.url, 'bundles/empty', subject, BUNDLE);
    const served = await read('bundles/empty', 'v1');
    assert.equal(served.status, 200, served.text);
    assert.equal(served.digest, EMPTY_IMAGE_DIGEST);
    const v = await verdict('bundles/empty', EMPTY_IMAGE_DIGEST);
    assert.equal(v.verified, true, JSON.stringify(v));
    assert.equal(v.signer?.kind, 'sigstore-bundle');
    assert.match(v.signer!.by, /cody@soyland\.com/);
    gate.assertPresent();
    const inspected = await skopeoRun(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/bundles/empty:v1`]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(sha256(Buffer.from(inspected.stdout)), EMPTY_IMAGE_DIGEST);
  });

  type Bundle = { verificationMaterial: { certificate: { rawBytes: string } }; dsseEnvelope: { payload: string; signatures: { sig: string }[] } };
  const tamper = (mutate: (b: Bundle) => void): string => {
    const b = JSON.parse(BUNDLE) as Bundle;
    mutate(b);
    return JSON.stringify(b);
  };
  const tampered: [string, string, () => string, RegExp][] = [
    ['payload (the attested predicate changed)', 'bundles/t-payload', () => tamper((b) => {
      b.dsseEnvelope.payload = Buffer.from(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8').replace('foo', 'fob')).toString('base64');
    }), /Sigstore bundle: DSSE payload hash mismatch/],
    ['signature (one character flipped)', 'bundles/t-signature', () => tamper((b) => {
      // The transparency log recorded the original signature: the altered one is caught there first.
      b.dsseEnvelope.signatures[0]!.sig = flip(b.dsseEnvelope.signatures[0]!.sig);
    }), /Sigstore bundle: tlog entry signature mismatch/],
    ['certificate (swapped for the Fulcio intermediate)', 'bundles/t-certificate', () => tamper((b) => {
      const root = JSON.parse(readFileSync(SIGSTORE_ROOT, 'utf8')) as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
      b.verificationMaterial.certificate.rawBytes = root.certificateAuthorities[1]!.certChain.certificates[0]!.rawBytes;
    }), /Sigstore bundle: signature verification failed/],
  ];
  for (const [what, repo, bundle, reason] of tampered) {
    it(`refuses a tampered ${what}`, async () => {
      await pushEmptyImage(repo);
      await pushBundle(reg.url, repo, subject, bundle());
      assert.equal((await read(repo, 'v1')).status, 403);
      const v = await verdict(repo, EMPTY_IMAGE_DIGEST);
      assert.equal(v.verified, false);
      assert.match(v.rejected[0]!.reason, reason);
    });
  }

  it('refuses the genuine bundle attached to another image (digest), and for a signer the policy does not accept', async () => {
    const other = imageManifest(config, []);
    await pushImage(reg.url, 'bundles/t-digest', 'v1', config, [], other);
    await pushBundle(reg.url, 'bundles/t-digest', other, BUNDLE);
    assert.equal((await read('bundles/t-digest', 'v1')).status, 403);
    assert.match((await verdict('bundles/t-digest', other.digest)).rejected[0]!.reason, new RegExp(`the bundle's statement is not about ${other.digest}`));

    await pushEmptyImage('bundles-strict/empty');
    await pushBundle(reg.url, 'bundles-strict/empty', subject, BUNDLE);
    assert.equal((await read('bundles-strict/empty', 'v1')).status, 403);
    assert.match((await verdict('bundles-strict/empty', EMPTY_IMAGE_DIGEST)).rejected[0]!.reason, /signed by cody@soyland\.com.*not an accepted identity/);
  });
});
