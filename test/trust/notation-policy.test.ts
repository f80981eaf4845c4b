// trust.notation: a Notation trustpolicy.json and trust store, as an operator of the notation CLI
// has them, judge pulls through Berth. The image and signature are the ones the notation CLI made
// (the Notary Project's published e2e fixture, test/trust/fixtures/README.md), pushed byte for
// byte; the trust store is the fixture's `x509/ca/e2e`, named `ca:e2e` by the document.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, sha256, DOCKER_MANIFEST, OCI_MANIFEST } from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { tempDir, removeDir } from '../e2e/support/env.js';
import { pull, startMirror, upstream } from '../proxy/support.js';
import { FIXTURES, NOTATION, asManifest } from './support/published.js';

const HOST = 'registry.example.com';

/** The document under test: notation's own format, scopes naming this registry as clients do. */
const TRUST_POLICY = {
  version: '1.0',
  trustPolicies: [
    {
      // A subset of the signer's subject (it also has L and CN): Notation accepts it.
      name: 'e2e-images',
      registryScopes: [`${HOST}/np/good`, 'elsewhere.example/np/other'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:e2e'],
      trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary'],
    },
    {
      name: 'release-only',
      registryScopes: [`${HOST}/np/wrong`],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:e2e'],
      trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary, CN=release'],
    },
    {
      name: 'watch',
      registryScopes: [`${HOST}/np/watch`],
      signatureVerification: { level: 'audit' },
      trustStores: ['ca:e2e'],
      trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary, CN=release'],
    },
    { name: 'unsigned-ok', registryScopes: [`${HOST}/np/skipped`], signatureVerification: { level: 'skip' } },
    {
      name: 'global',
      registryScopes: ['*'],
      signatureVerification: { level: 'permissive', override: { revocation: 'skip' } },
      trustStores: ['ca:e2e'],
      trustedIdentities: ['*'],
    },
  ],
};

let reg: TestRegistry;
let work: string;

before(async () => {
  work = await tempDir('trust-notation-policy');
  await writeFile(join(work, 'trustpolicy.json'), JSON.stringify(TRUST_POLICY, null, 2));
  reg = await startTestRegistry({
    configure: (c) => {
      c.trust.notation = { trustpolicy: join(work, 'trustpolicy.json'), truststore: join(FIXTURES, 'notation/truststore'), registries: [HOST], exempt: [] };
    },
  });
});

after(async () => {
  await reg?.close();
  await removeDir(work);
});

async function read(repo: string, ref = 'v1') {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers: { accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` } });
  const text = await res.text();
  return { status: res.status, digest: res.headers.get('docker-content-digest'), text };
}

async function verdict(repo: string) {
  return (await reg.server.trust!.verdict(repo, sha256(NOTATION.image), { fresh: true }))!;
}

async function pushImage(repo: string): Promise<void> {
  for (const b of [NOTATION.config, NOTATION.layer]) await pushBlob(reg.url, repo, blob(b));
  await pushManifest(reg.url, repo, 'v1', asManifest(NOTATION.image, OCI_MANIFEST));
}

/** The signature manifest `notation sign` pushed, unchanged (its subject is the image). */
async function pushSignature(repo: string): Promise<void> {
  await pushBlob(reg.url, repo, blob(NOTATION.envelope));
  await pushManifest(reg.url, repo, sha256(NOTATION.signatureManifest), asManifest(NOTATION.signatureManifest, OCI_MANIFEST));
}

describe('trust.notation: a trustpolicy.json judges the notation-signed image', () => {
  it('lists the statements as policies, scoped ones before the wildcard', async () => {
    const all = (await reg.server.trust!.policies()).all.map((p) => [p.name, p.mode, p.repositories.join(',')]);
    assert.deepEqual(all, [
      ['e2e-images', 'enforce', 'np/good'],
      ['release-only', 'enforce', 'np/wrong'],
      ['watch', 'audit', 'np/watch'],
      ['unsigned-ok', 'off', 'np/skipped'],
      ['global', 'enforce', '*'],
    ]);
  });

  it('strict, the trusted identity a subset of the signer\'s subject: refused unsigned, served once signed', async () => {
    await pushImage('np/good');
    const refused = await read('np/good');
    assert.equal(refused.status, 403);
    assert.match(refused.text, /"DENIED"/);
    assert.match(refused.text, /policy \\"e2e-images\\" requires a valid signature on np\/good@sha256:b8479de3/);
    assert.match(refused.text, /a Notation signature chaining to the trust store ca:e2e of .* by x509\.subject: C=US, ST=WA, O=Notary \(statement \\"e2e-images\\"/);
    await pushSignature('np/good');
    const served = await read('np/good');
    assert.equal(served.status, 200, served.text);
    assert.equal(served.digest, sha256(NOTATION.image));
    const v = (await verdict('np/good')).verdict;
    assert.equal(v.policy, 'e2e-images');
    assert.equal(v.verified, true, JSON.stringify(v));
    assert.equal(v.signer?.kind, 'notation');
    assert.match(v.signer!.by, /^Notation x509\.subject C=US, ST=WA, L=Seattle, O=Notary, CN=e2e$/);
  });

  it('strict, another trusted identity: the genuine signature is refused with DENIED', async () => {
    await pushImage('np/wrong');
    await pushSignature('np/wrong');
    const got = await read('np/wrong');
    assert.equal(got.status, 403, got.text);
    assert.match(got.text, /"DENIED"/);
    assert.match(got.text, /policy \\"release-only\\"/);
    const v = (await verdict('np/wrong')).verdict;
    assert.equal(v.verified, false);
    assert.match(v.rejected[0]!.reason, /signed by x509\.subject .*CN=e2e, not a trusted identity/);
  });

  it('audit: the image is served although the signer is not trusted, and the verdict says why', async () => {
    await pushImage('np/watch');
    await pushSignature('np/watch');
    const got = await read('np/watch');
    assert.equal(got.status, 200, got.text);
    const v = (await verdict('np/watch')).verdict;
    assert.equal(v.policy, 'watch');
    assert.equal(v.verified, false);
    assert.match(v.rejected[0]!.reason, /not a trusted identity/);
  });

  it('skip: an unsigned image is served and not judged', async () => {
    await pushImage('np/skipped');
    assert.equal((await read('np/skipped')).status, 200);
  });

  it('the wildcard statement covers every other repository, including one scoped only on another registry', async () => {
    for (const repo of ['np/other', 'team/app']) {
      await pushImage(repo);
      const refused = await read(repo);
      assert.equal(refused.status, 403, `${repo}: ${refused.text}`);
      assert.match(refused.text, /policy \\"global\\"/);
      await pushSignature(repo);
      assert.equal((await read(repo)).status, 200, repo);
      assert.equal((await verdict(repo)).verdict.policy, 'global');
    }
  });
});

describe('trust.notation: an upstream\'s verify: names a statement', () => {
  const notation = () => ({ trustpolicy: join(work, 'trustpolicy.json'), truststore: join(FIXTURES, 'notation/truststore'), registries: [HOST], exempt: [] });

  it('judges what the cache fetches by the statement, and an unknown name stops start', async () => {
    // np/good carries the notation-signed image and its signature (pushed above).
    const mirror = await startMirror({
      upstreams: [upstream('trusted', reg.url, { verify: 'e2e-images' }), upstream('strangers', reg.url, { verify: 'release-only' })],
    }, (c) => {
      c.trust.notation = notation();
    });
    try {
      const ok = await pull(mirror.url, 'trusted/np/good', 'v1');
      assert.equal(ok.status, 200, ok.body);
      const refused = await pull(mirror.url, 'strangers/np/good', 'v1');
      assert.equal(refused.status, 403);
      assert.match(refused.body!, /"DENIED"/);
      assert.match(refused.body!, /policy \\"release-only\\"/);
    } finally {
      await mirror.close();
    }
    await assert.rejects(startMirror({ upstreams: [upstream('x', reg.url, { verify: 'no-such-statement' })] }, (c) => {
      c.trust.notation = notation();
    }), /proxy upstream "x" verify: no trust policy is named "no-such-statement" \(policies: e2e-images, release-only, watch, unsigned-ok, global\)/);
  });
});

