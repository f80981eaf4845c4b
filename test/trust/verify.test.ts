// Verification, end to end through the registry API: images pushed, signatures made as cosign,
// Sigstore and Notation make them (test/trust/support/fixtures.ts), then each image read under
// an enforcing policy; the verdict (API and in-process) says which signature counted or why none did.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, indexManifest, type Manifest } from '../support/oci-fixtures.js';
import { pushImage, pushManifest } from '../support/push.js';
import { makePki, type Pki } from './support/pki.js';
import {
  cosignLayer, notationEnvelope, opensslSign, pushBundle, pushCosign, pushNotation, rekorBundle, sigstoreBundle, simpleSigning, trustedRoot,
} from './support/fixtures.js';

let pki: Pki;
let reg: TestRegistry;
let dir: string;

async function newImage(repo: string, tag = 'v1'): Promise<Manifest> {
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }));
  const layer = blob(randomBytes(256));
  const m = imageManifest(config, [layer]);
  await pushImage(reg.url, repo, tag, config, [layer], m);
  return m;
}

const pem = (path: string) => readFile(path, 'utf8');

async function keySigned(repo: string, m: Manifest, keyFile: string, payload = simpleSigning(repo, m.digest), extra: Record<string, string> = {}) {
  const signature = await opensslSign(dir, keyFile, payload);
  return cosignLayer(payload, { 'dev.cosignproject.cosign/signature': signature, ...extra });
}

async function read(repo: string, ref: string, method = 'GET') {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { method, headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) as { errors?: { code: string; message: string; detail: { policy: string; reason: string } }[] } : undefined };
}

async function verdict(repo: string, digest: string) {
  const answer = await reg.server.trust!.verdict(repo, digest, { fresh: true });
  return answer!.verdict;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-trust-'));
  pki = await makePki(dir);
  await writeFile(join(dir, 'trusted_root.json'), trustedRoot([await pem(pki.fulcio.intermediate), await pem(pki.fulcio.root)], await pem(pki.rekor.pub)));
  const identities = [{ subject: '*@example.com', issuer: pki.identity.issuer }];
  reg = await startTestRegistry({
    configure: (c) => {
      // Metrics are collected only where /metrics is served (the audit-mode test reads them).
      c.metrics.mainlistener = true;
      c.trust.policies = [
        { name: 'keys', repositories: ['keys/*'], mode: 'enforce', keys: Object.values(pki.keys).map((k) => k.pub), rekorkey: pki.rekor.pub, exempt: [] },
        { name: 'keyless', repositories: ['keyless/*'], mode: 'enforce', keys: [], certificates: { roots: [pki.fulcio.root], identities }, rekorkey: pki.rekor.pub, exempt: [] },
        { name: 'strict-identity', repositories: ['strict/*'], mode: 'enforce', keys: [], certificates: { roots: [pki.fulcio.root], identities: [{ subject: 'release@example.com' }] }, exempt: [] },
        { name: 'bundles', repositories: ['bundles/*'], mode: 'enforce', keys: [], sigstore: { trustedroot: join(dir, 'trusted_root.json'), identities, tlogthreshold: 1 }, exempt: [] },
        { name: 'notary', repositories: ['notary/*'], mode: 'enforce', keys: [], notation: { truststore: pki.notation.storeDir, identities: [`x509.subject: ${pki.notation.subject}`] }, exempt: [] },
        { name: 'watch', repositories: ['watch/*'], mode: 'audit', keys: [pki.keys.p256.pub], exempt: [] },
      ];
    },
  });
});

after(async () => {
  await reg?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('enforce: unsigned images', () => {
  it('refuses GET and HEAD of an unsigned image with DENIED naming the policy and what satisfies it', async () => {
    const m = await newImage('keys/unsigned');
    for (const ref of ['v1', m.digest]) {
      const got = await read('keys/unsigned', ref);
      assert.equal(got.status, 403);
      const e = got.body!.errors![0]!;
      assert.equal(e.code, 'DENIED');
      assert.match(e.message, /policy "keys" requires a valid signature on keys\/unsigned@sha256:/);
      assert.match(e.message, /no signature found/);
      assert.match(e.message, /Satisfied by a cosign signature verifying with one of the keys .*p256\.pub/);
      assert.equal(e.detail.policy, 'keys');
      assert.equal((await read('keys/unsigned', ref, 'HEAD')).status, 403);
    }
  });

  it('serves repositories no policy covers, and blobs of covered ones', async () => {
    const m = await newImage('elsewhere/app');
    assert.equal((await read('elsewhere/app', 'v1')).status, 200);
    await newImage('keys/blobs');
    const layer = (m.json.layers as { digest: string }[])[0]!.digest;
    assert.equal((await fetch(`${reg.url}/v2/elsewhere/app/blobs/${layer}`)).status, 200);
  });
});

describe('cosign signatures with keys', () => {
  for (const kind of ['p256', 'p384', 'rsa', 'ed25519'] as const) {
    it(`serves an image signed with an ${kind} key (tag scheme), by tag and by digest`, async () => {
      const repo = `keys/${kind}`;
      const m = await newImage(repo);
      await pushCosign(reg.url, repo, m, [await keySigned(repo, m, pki.keys[kind].key)]);
      assert.equal((await read(repo, 'v1')).status, 200);
      assert.equal((await read(repo, m.digest, 'HEAD')).status, 200);
      const v = await verdict(repo, m.digest);
      assert.equal(v.verified, true);
      assert.equal(v.signer!.kind, 'cosign');
      assert.equal(v.signer!.via, 'tag');
      assert.equal(v.signer!.by, `key ${pki.keys[kind].pub}`);
    });
  }

  it('serves an image whose cosign signature is a referrer (OCI 1.1)', async () => {
    const m = await newImage('keys/referrer');
    await pushCosign(reg.url, 'keys/referrer', m, [await keySigned('keys/referrer', m, pki.keys.p256.key)], 'referrers');
    assert.equal((await read('keys/referrer', 'v1')).status, 200);
    assert.equal((await verdict('keys/referrer', m.digest)).signer!.via, 'referrers');
  });

  it('refuses a signature by a key the policy does not name', async () => {
    const m = await newImage('keys/stranger');
    await pushCosign(reg.url, 'keys/stranger', m, [await keySigned('keys/stranger', m, pki.stranger.key)]);
    const got = await read('keys/stranger', 'v1');
    assert.equal(got.status, 403);
    assert.match(got.body!.errors![0]!.message, /verifies with none of the policy's keys/);
  });

  it('refuses a valid signature whose payload names another digest', async () => {
    const repo = 'keys/otherdigest';
    const m = await newImage(repo);
    const other = await newImage(repo, 'v2');
    await pushCosign(reg.url, repo, m, [await keySigned(repo, m, pki.keys.p256.key, simpleSigning(repo, other.digest))]);
    const got = await read(repo, 'v1');
    assert.equal(got.status, 403);
    assert.match(got.body!.errors![0]!.message, new RegExp(`signs ${other.digest}, not ${m.digest}`));
  });

  it('refuses a tampered payload and a tampered signature', async () => {
    const repo = 'keys/tampered';
    const m = await newImage(repo);
    const good = await keySigned(repo, m, pki.keys.p256.key);
    const payload = JSON.parse(good.payload.data.toString('utf8')) as { optional: unknown };
    payload.optional = { note: 'added after signing' };
    const tamperedPayload = cosignLayer(Buffer.from(JSON.stringify(payload)), good.annotations);
    const sig = Buffer.from(good.annotations['dev.cosignproject.cosign/signature']!, 'base64');
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x01;
    const tamperedSig = cosignLayer(good.payload.data, { 'dev.cosignproject.cosign/signature': sig.toString('base64') });
    await pushCosign(reg.url, repo, m, [tamperedPayload, tamperedSig]);
    assert.equal((await read(repo, 'v1')).status, 403);
    const v = await verdict(repo, m.digest);
    assert.equal(v.rejected.length, 2);
    for (const r of v.rejected) assert.match(r.reason, /verifies with none/);
  });

  it('checks a Rekor bundle when Rekor\'s key is configured: a valid one passes, a forged one is refused', async () => {
    const repo = 'keys/rekor';
    const m = await newImage(repo);
    const layer = await keySigned(repo, m, pki.keys.p256.key);
    const sig = layer.annotations['dev.cosignproject.cosign/signature']!;
    const bundle = rekorBundle(pki.rekor, sig, layer.payload.data, await pem(pki.keys.p256.pub), 1_700_000_000);
    await pushCosign(reg.url, repo, m, [cosignLayer(layer.payload.data, { ...layer.annotations, 'dev.sigstore.cosign/bundle': bundle })]);
    assert.equal((await read(repo, 'v1')).status, 200);
    assert.equal((await verdict(repo, m.digest)).signer!.loggedAt, new Date(1_700_000_000_000).toISOString());

    const forgedRepo = 'keys/rekor-forged';
    const f = await newImage(forgedRepo);
    const fl = await keySigned(forgedRepo, f, pki.keys.p256.key);
    // Logged by another log (the stranger's key), and a SET that does not match its entry.
    const otherLog = rekorBundle(pki.stranger, fl.annotations['dev.cosignproject.cosign/signature']!, fl.payload.data, await pem(pki.keys.p256.pub));
    const parsed = JSON.parse(rekorBundle(pki.rekor, fl.annotations['dev.cosignproject.cosign/signature']!, fl.payload.data, await pem(pki.keys.p256.pub))) as { Payload: { integratedTime: number } };
    parsed.Payload.integratedTime += 1;
    await pushCosign(reg.url, forgedRepo, f, [
      cosignLayer(fl.payload.data, { ...fl.annotations, 'dev.sigstore.cosign/bundle': otherLog }),
      cosignLayer(fl.payload.data, { ...fl.annotations, 'dev.sigstore.cosign/bundle': JSON.stringify(parsed) }),
    ]);
    assert.equal((await read(forgedRepo, 'v1')).status, 403);
    const reasons = (await verdict(forgedRepo, f.digest)).rejected.map((r) => r.reason);
    assert.match(reasons[0]!, /not the configured Rekor key/);
    assert.match(reasons[1]!, /signed entry timestamp does not verify/);
  });
});

describe('cosign signatures with certificates (keyless)', () => {
  async function certSigned(repo: string, m: Manifest, keyFile: string, certFile: string, chain: string[]) {
    const payload = simpleSigning(repo, m.digest);
    const signature = await opensslSign(dir, keyFile, payload);
    const certPem = await pem(certFile);
    return cosignLayer(payload, {
      'dev.cosignproject.cosign/signature': signature, 'dev.sigstore.cosign/certificate': certPem,
      ...(chain.length > 0 ? { 'dev.sigstore.cosign/chain': (await Promise.all(chain.map(pem))).join('') } : {}),
      'dev.sigstore.cosign/bundle': rekorBundle(pki.rekor, signature, payload, certPem),
    });
  }

  it('serves an image signed by a certificate chaining to the configured root with an accepted identity', async () => {
    const m = await newImage('keyless/app');
    await pushCosign(reg.url, 'keyless/app', m, [await certSigned('keyless/app', m, pki.fulcio.leafKey, pki.fulcio.leafCert, [pki.fulcio.intermediate, pki.fulcio.root])]);
    assert.equal((await read('keyless/app', 'v1')).status, 200);
    assert.equal((await verdict('keyless/app', m.digest)).signer!.by, `certificate ${pki.identity.subject} (issuer ${pki.identity.issuer})`);
  });

  it('refuses a certificate of another root, a chain without its intermediate, and an identity not accepted', async () => {
    const m = await newImage('keyless/other-root');
    await pushCosign(reg.url, 'keyless/other-root', m, [
      await certSigned('keyless/other-root', m, pki.fulcio.otherLeafKey, pki.fulcio.otherLeafCert, [pki.fulcio.otherRoot]),
      await certSigned('keyless/other-root', m, pki.fulcio.leafKey, pki.fulcio.leafCert, []),
    ]);
    assert.equal((await read('keyless/other-root', 'v1')).status, 403);
    for (const r of (await verdict('keyless/other-root', m.digest)).rejected) assert.match(r.reason, /does not chain to a configured root/);

    const s = await newImage('strict/app');
    await pushCosign(reg.url, 'strict/app', s, [await certSigned('strict/app', s, pki.fulcio.leafKey, pki.fulcio.leafCert, [pki.fulcio.intermediate])]);
    const got = await read('strict/app', 'v1');
    assert.equal(got.status, 403);
    assert.match(got.body!.errors![0]!.message, /signed by signer@example\.com .* not an accepted identity/);
  });
});

describe('Sigstore bundles (cosign v3)', () => {
  it('serves an image with a bundle that verifies against the trusted root, refuses one about another image or with a forged signature', async () => {
    const m = await newImage('bundles/app');
    const bundle = sigstoreBundle({ leafKeyPem: await pem(pki.fulcio.leafKey), leafCertPem: await pem(pki.fulcio.leafCert), rekor: pki.rekor, repository: 'bundles/app', digest: m.digest });
    await pushBundle(reg.url, 'bundles/app', m, bundle);
    const firstRead = await read('bundles/app', 'v1');
    assert.equal(firstRead.status, 200, JSON.stringify(firstRead.body));
    const v = await verdict('bundles/app', m.digest);
    assert.equal(v.signer!.kind, 'sigstore-bundle');
    assert.match(v.signer!.by, /signer@example\.com \(issuer https:\/\/accounts\.example\.com\)/);

    const n = await newImage('bundles/bad');
    const other = await newImage('bundles/bad', 'v2');
    await pushBundle(reg.url, 'bundles/bad', n, sigstoreBundle({ leafKeyPem: await pem(pki.fulcio.leafKey), leafCertPem: await pem(pki.fulcio.leafCert), rekor: pki.rekor, repository: 'bundles/bad', digest: other.digest }));
    const forged = JSON.parse(sigstoreBundle({ leafKeyPem: await pem(pki.fulcio.leafKey), leafCertPem: await pem(pki.fulcio.leafCert), rekor: pki.rekor, repository: 'bundles/bad', digest: n.digest })) as { dsseEnvelope: { signatures: { sig: string }[] } };
    const sig = Buffer.from(forged.dsseEnvelope.signatures[0]!.sig, 'base64');
    sig[10] = sig[10]! ^ 0xff;
    forged.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
    await pushBundle(reg.url, 'bundles/bad', n, JSON.stringify(forged));
    assert.equal((await read('bundles/bad', 'v1')).status, 403);
    const reasons = (await verdict('bundles/bad', n.digest)).rejected.map((r) => r.reason).sort();
    assert.equal(reasons.length, 2);
    assert.ok(reasons.some((r) => /statement is not about/.test(r)), reasons.join('\n'));
    assert.ok(reasons.some((r) => /Sigstore bundle: /.test(r)), reasons.join('\n'));
  });
});

describe('Notation signatures', () => {
  const chain = () => Promise.all([pem(pki.notation.leafCert), pem(pki.notation.root)]);

  it('serves an image with a JWS signature chaining to the trust store by a trusted identity', async () => {
    const m = await newImage('notary/app');
    const pems = await chain();
    const env = await notationEnvelope({ leafKeyPem: await pem(pki.notation.leafKey), chainPems: pems, target: { mediaType: m.mediaType, digest: m.digest, size: m.body.length } });
    await pushNotation(reg.url, 'notary/app', m, env, pems);
    assert.equal((await read('notary/app', 'v1')).status, 200);
    assert.match((await verdict('notary/app', m.digest)).signer!.by, /Notation x509.subject C=US, ST=WA, L=Seattle, O=wabbit-networks.io/);
  });

  it('refuses a Notation signature over another digest, an expired one, a tampered one and one from an untrusted chain', async () => {
    const repo = 'notary/bad';
    const m = await newImage(repo);
    const other = await newImage(repo, 'v2');
    const pems = await chain();
    const key = await pem(pki.notation.leafKey);
    const target = { mediaType: m.mediaType, digest: m.digest, size: m.body.length };
    await pushNotation(reg.url, repo, m, await notationEnvelope({ leafKeyPem: key, chainPems: pems, target: { ...target, digest: other.digest } }), pems);
    await pushNotation(reg.url, repo, m, await notationEnvelope({ leafKeyPem: key, chainPems: pems, target, expiry: new Date(Date.now() - 60_000) }), pems);
    const tampered = JSON.parse(await notationEnvelope({ leafKeyPem: key, chainPems: pems, target })) as { payload: string };
    tampered.payload = Buffer.from(JSON.stringify({ targetArtifact: { ...target, size: 1 } })).toString('base64url');
    await pushNotation(reg.url, repo, m, JSON.stringify(tampered), pems);
    const strangerChain = [await pem(pki.fulcio.otherLeafCert), await pem(pki.fulcio.otherRoot)];
    await pushNotation(reg.url, repo, m, await notationEnvelope({ leafKeyPem: await pem(pki.fulcio.otherLeafKey), chainPems: strangerChain, target }), strangerChain);
    assert.equal((await read(repo, 'v1')).status, 403);
    const reasons = (await verdict(repo, m.digest)).rejected.map((r) => r.reason).sort();
    assert.equal(reasons.length, 4, reasons.join('\n'));
    assert.ok(reasons.some((r) => r.includes(`signs ${other.digest}`)));
    assert.ok(reasons.some((r) => r.includes('expired')));
    assert.ok(reasons.some((r) => r.includes('does not verify')));
    assert.ok(reasons.some((r) => r.includes('does not chain to a configured root')));
  });
});

describe('what enforcement never blocks, and the verdict cache', () => {
  it('serves signatures and referrers of an unsigned image, and accepts pushes to it', async () => {
    const repo = 'keys/signing-flow';
    const m = await newImage(repo);
    assert.equal((await read(repo, 'v1')).status, 403);
    const sigDigest = await pushCosign(reg.url, repo, m, [await keySigned(repo, m, pki.stranger.key)]);
    const sigTag = `${m.digest.replace(':', '-')}.sig`;
    assert.equal((await read(repo, sigTag)).status, 200);
    assert.equal((await read(repo, sigDigest)).status, 200);
    const ref = await pushCosign(reg.url, repo, m, [await keySigned(repo, m, pki.stranger.key)], 'referrers');
    assert.equal((await read(repo, ref)).status, 200);
    assert.equal((await fetch(`${reg.url}/v2/${repo}/referrers/${m.digest}`)).status, 200);
  });

  it('drops a cached verdict when a signature arrives or goes', async () => {
    const repo = 'keys/cache';
    const m = await newImage(repo);
    assert.equal((await read(repo, 'v1')).status, 403);
    assert.equal((await read(repo, 'v1')).status, 403);
    await pushCosign(reg.url, repo, m, [await keySigned(repo, m, pki.keys.p256.key)]);
    assert.equal((await read(repo, 'v1')).status, 200);
    const cached = await reg.server.trust!.verdict(repo, m.digest);
    assert.equal(cached!.cached, true);
    assert.equal(cached!.verdict.verified, true);
    const del = await fetch(`${reg.url}/v2/${repo}/manifests/${m.digest.replace(':', '-')}.sig`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.equal((await read(repo, 'v1')).status, 403);
  });

  it('serves the platform images of a signed index by digest', async () => {
    const repo = 'keys/multi';
    const a = await newImage(repo, 'a');
    const b = await newImage(repo, 'b');
    const index = indexManifest([a, b]);
    await pushManifest(reg.url, repo, 'latest', index);
    assert.equal((await read(repo, 'latest')).status, 403);
    await pushCosign(reg.url, repo, index, [await keySigned(repo, index, pki.keys.p256.key)]);
    assert.equal((await read(repo, 'latest')).status, 200);
    assert.equal((await read(repo, a.digest)).status, 200);
    assert.equal((await read(repo, b.digest)).status, 200);
    assert.equal((await read(repo, 'a')).status, 200);
  });

  it('serves unsigned images in audit mode and counts the reads', async () => {
    await newImage('watch/app');
    assert.equal((await read('watch/app', 'v1')).status, 200);
    assert.equal((await read('watch/app', 'v1')).status, 200);
    const metrics = await reg.server.observability.metrics!.render();
    assert.match(metrics, /berth_trust_unverified_reads_total\{policy="watch",outcome="served"\} 2/);
    assert.match(metrics, /berth_trust_verdicts_total\{policy="watch",result="unverified"\} 1/);
  });
});
