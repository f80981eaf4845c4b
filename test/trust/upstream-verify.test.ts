// An upstream's `verify:` (issue 19): two Berths on 127.0.0.1, one the upstream holding signed,
// unsigned and badly signed images, the other a pull-through cache whose upstreams name trust
// policies. A manifest fetched from the upstream is judged with the signatures read from the
// upstream (cosign's .sig tag and the referrers API, through src/client) before it is stored:
// signed ones are cached and served, unsigned and tampered ones refused with DENIED naming the
// policy and nothing cached. Pulled over the HTTP API and with skopeo.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, indexManifest, sha256, OCI_MANIFEST, type Manifest } from '../support/oci-fixtures.js';
import { pushBlob, pushImage, pushManifest } from '../support/push.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { skopeo, skopeoRun } from '../e2e/support/skopeo.js';
import { pull, startMirror, upstream } from '../proxy/support.js';
import { tryParseDigest, type Digest } from '../../src/oci/digest.js';
import { discoverSignatures } from '../../src/trust/discover.js';
import { makePki, type Pki } from './support/pki.js';
import { cosignLayer, opensslSign, pushCosign, simpleSigning } from './support/fixtures.js';
import { FIXTURES, NOTATION, asManifest } from './support/published.js';

const gate = requireClients('skopeo', 'openssl');
it('has the clients it drives installed (skopeo, openssl)', { skip: gate.skip }, () => gate.assertPresent());

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json';

const digestOf = (text: string): Digest => tryParseDigest(text) as Digest;

interface ErrorBody { errors: { code: string; message: string; detail: Record<string, string> }[] }

it('counts a malformed .sig manifest (a foreign upstream\'s) as an unreadable signature, not as a failure to read the upstream', async () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const found = await discoverSignatures({
    manifest: async (_repo, ref) => (ref.endsWith('.sig') ? { digest: `sha256:${'b'.repeat(64)}`, bytes: Buffer.from('<html>not a manifest</html>') } : undefined),
    referrers: async () => [],
    blob: async () => Buffer.alloc(0),
  }, 'team/app', digest);
  assert.deepEqual(found.signatures, []);
  assert.equal(found.unreadable.length, 1);
  assert.match(found.unreadable[0]!, /^sha256:b{64}: /);
});

describe('pull-through upstreams with verify: (signatures required before caching)', { skip: gate.skip }, () => {
  let work: string;
  let pki: Pki;
  let up: TestRegistry;
  let mirror: TestRegistry;

  before(async () => {
    gate.assertPresent();
    work = await tempDir('trust-upstream');
    pki = await makePki(work);
    up = await startTestRegistry({ storage: 'filesystem' });
    mirror = await startMirror({
      upstreams: [
        upstream('hub', up.url, { verify: 'upstream-keys' }),
        upstream('notary', up.url, { verify: 'upstream-notary' }),
        upstream('watch', up.url, { verify: 'upstream-audit' }),
        upstream('plain', up.url),
      ],
    }, (c) => {
      c.trust.policies = [
        // Named by upstreams only: no local repository is judged by them.
        { name: 'upstream-keys', repositories: [], mode: 'enforce', keys: [pki.keys.p256.pub], exempt: [] },
        { name: 'upstream-notary', repositories: [], mode: 'enforce', keys: [], notation: { truststore: join(FIXTURES, 'notation/truststore'), identities: [NOTATION.subject] }, exempt: [] },
        { name: 'upstream-audit', repositories: [], mode: 'audit', keys: [pki.keys.p256.pub], exempt: [] },
        // A local policy over the cache's names: its content was judged at fetch (signatures
        // upstream), so this one must not refuse it for want of signatures stored here.
        { name: 'local-glob', repositories: ['hub/*'], mode: 'enforce', keys: [pki.stranger.pub], exempt: [] },
      ];
    });
  });
  after(async () => {
    await mirror?.close();
    await up?.close();
    if (work) await removeDir(work);
  });

  async function newImage(repo: string, tag = 'v1'): Promise<Manifest> {
    const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: Math.random() }));
    const layer = blob();
    const m = imageManifest(config, [layer]);
    await pushImage(up.url, repo, tag, config, [layer], m);
    return m;
  }

  async function keySigned(repo: string, digest: string, keyFile: string, payload = simpleSigning(repo, digest)) {
    return cosignLayer(payload, { 'dev.cosignproject.cosign/signature': await opensslSign(work, keyFile, payload) });
  }

  async function read(repo: string, ref: string, method = 'GET') {
    const res = await fetch(`${mirror.url}/v2/${repo}/manifests/${ref}`, { method, headers: { accept: ACCEPT } });
    const text = await res.text();
    return { status: res.status, statusText: res.statusText, digest: res.headers.get('docker-content-digest'), cache: res.headers.get('x-berth-cache'), body: text && res.status !== 200 ? JSON.parse(text) as ErrorBody : undefined };
  }

  /** Nothing of the image in the cache: no tag, no manifest, no bookkeeping row, no blob. */
  async function assertNotCached(local: string, m: Manifest, tag = 'v1') {
    const base = mirror.server.proxy!.base;
    assert.equal(await base.tags.resolve(local, tag), undefined, `${local}:${tag} was tagged in the cache`);
    await assert.rejects(base.manifests.get(local, { digest: digestOf(m.digest) }), /MANIFEST_UNKNOWN|unknown/i);
    const rows = await mirror.server.proxy!.db.selectFrom('proxy_cache_entries').selectAll().where('repository', '=', local).execute();
    assert.deepEqual(rows, []);
    const doc = m.json as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) {
      assert.equal(await base.blobs.isLinked(local, digestOf(d)), false, `blob ${d} linked`);
    }
  }

  it('caches and serves an image signed upstream (cosign key, .sig tag), then serves it from the cache', async () => {
    const m = await newImage('team/signed');
    await pushCosign(up.url, 'team/signed', m, [await keySigned('team/signed', m.digest, pki.keys.p256.key)]);
    const first = await pull(mirror.url, 'hub/team/signed', 'v1');
    assert.equal(first.status, 200, first.body);
    assert.equal(first.digest, m.digest);
    assert.deepEqual(first.cache, ['miss', 'miss', 'miss']);
    const second = await pull(mirror.url, 'hub/team/signed', 'v1');
    assert.deepEqual(second.cache, ['hit', 'hit', 'hit']);
  });

  it('reads an OCI 1.1 referrer signature from the upstream', async () => {
    const m = await newImage('team/refsigned');
    await pushCosign(up.url, 'team/refsigned', m, [await keySigned('team/refsigned', m.digest, pki.keys.p256.key)], 'referrers');
    const got = await pull(mirror.url, 'hub/team/refsigned', 'v1');
    assert.equal(got.status, 200, got.body);
    assert.equal(got.digest, m.digest);
  });

  it('refuses an unsigned image with DENIED naming the policy, caches nothing, and serves it once it is signed upstream', async () => {
    const m = await newImage('team/unsigned');
    const got = await read('hub/team/unsigned', 'v1');
    assert.equal(got.status, 403);
    const e = got.body!.errors[0]!;
    assert.equal(e.code, 'DENIED');
    assert.match(e.message, new RegExp(`^policy "upstream-keys" requires a valid signature on hub/team/unsigned@${m.digest} from upstream "hub" \\(${up.url}, team/unsigned\\): no signature found; it was not cached\\. Satisfied by a cosign signature verifying with the key `));
    assert.equal(e.detail.policy, 'upstream-keys');
    assert.equal(e.detail.upstream, 'hub');
    assert.equal(e.detail.digest, m.digest);
    // By digest and by HEAD (the reason phrase carries the why, as for a local refusal).
    assert.equal((await read('hub/team/unsigned', m.digest)).status, 403);
    const head = await read('hub/team/unsigned', 'v1', 'HEAD');
    assert.equal(head.status, 403);
    assert.match(head.statusText, /policy "upstream-keys" requires a valid signature/);
    await assertNotCached('hub/team/unsigned', m);
    // A refusal is not remembered: signing upstream takes effect on the next pull.
    await pushCosign(up.url, 'team/unsigned', m, [await keySigned('team/unsigned', m.digest, pki.keys.p256.key)]);
    const now = await pull(mirror.url, 'hub/team/unsigned', 'v1');
    assert.equal(now.status, 200, now.body);
    assert.equal(now.digest, m.digest);
  });

  it('refuses tampered signatures: another key, a payload naming another digest, a changed payload, a changed signature', async () => {
    const cases: [string, (m: Manifest) => Promise<void>, RegExp][] = [
      ['team/stranger', async (m) => pushCosign(up.url, 'team/stranger', m, [await keySigned('team/stranger', m.digest, pki.stranger.key)]).then(() => undefined),
        /verifies with none of the policy's keys/],
      ['team/otherdigest', async (m) => {
        const other = await newImage('team/otherdigest', 'v2');
        await pushCosign(up.url, 'team/otherdigest', m, [await keySigned('team/otherdigest', other.digest, pki.keys.p256.key)]);
      }, /signs sha256:[0-9a-f]{64}, not sha256:/],
      ['team/tampered', async (m) => {
        const good = await keySigned('team/tampered', m.digest, pki.keys.p256.key);
        const payload = JSON.parse(good.payload.data.toString('utf8')) as { optional: unknown };
        payload.optional = { note: 'added after signing' };
        const changedPayload = cosignLayer(Buffer.from(JSON.stringify(payload)), good.annotations);
        const sig = Buffer.from(good.annotations['dev.cosignproject.cosign/signature']!, 'base64');
        sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x01;
        const changedSig = cosignLayer(good.payload.data, { 'dev.cosignproject.cosign/signature': sig.toString('base64') });
        await pushCosign(up.url, 'team/tampered', m, [changedPayload, changedSig]);
      }, /verifies with none of the policy's keys/],
    ];
    for (const [repo, sign, reason] of cases) {
      const m = await newImage(repo);
      await sign(m);
      const got = await read(`hub/${repo}`, 'v1');
      assert.equal(got.status, 403, repo);
      assert.equal(got.body!.errors[0]!.code, 'DENIED', repo);
      assert.match(got.body!.errors[0]!.message, reason, repo);
      await assertNotCached(`hub/${repo}`, m);
    }
  });

  it('serves the platform manifests of a signed index, but not an unlisted unsigned one by digest', async () => {
    const a = await newImage('team/multi', 'a');
    const b = await newImage('team/multi', 'b');
    const stray = await newImage('team/multi', 'stray');
    const index = indexManifest([a, b]);
    await pushManifest(up.url, 'team/multi', 'v1', index);
    await pushCosign(up.url, 'team/multi', index, [await keySigned('team/multi', index.digest, pki.keys.p256.key)]);
    const got = await read('hub/team/multi', 'v1');
    assert.equal(got.status, 200);
    assert.equal(got.digest, index.digest);
    for (const child of [a, b]) {
      const c = await pull(mirror.url, 'hub/team/multi', child.digest);
      assert.equal(c.status, 200, c.body);
      assert.equal(c.digest, child.digest);
    }
    assert.equal((await read('hub/team/multi', stray.digest)).status, 403);
  });

  it('verifies a signature the notation CLI made (published fixture, a referrer) and refuses a tampered envelope', async () => {
    const image = asManifest(NOTATION.image, OCI_MANIFEST);
    for (const repo of ['notary/e2e', 'notary/tampered']) {
      await pushBlob(up.url, repo, blob(NOTATION.config));
      await pushBlob(up.url, repo, blob(NOTATION.layer));
      await pushManifest(up.url, repo, 'v1', image);
    }
    await pushBlob(up.url, 'notary/e2e', blob(NOTATION.envelope));
    await pushManifest(up.url, 'notary/e2e', sha256(NOTATION.signatureManifest), asManifest(NOTATION.signatureManifest, OCI_MANIFEST));
    // The same envelope with one character of its signature changed.
    const jws = JSON.parse(NOTATION.envelope.toString('utf8')) as { signature: string };
    const at = Math.floor(jws.signature.length / 2);
    jws.signature = jws.signature.slice(0, at) + (jws.signature[at] === 'A' ? 'B' : 'A') + jws.signature.slice(at + 1);
    const envelope = blob(JSON.stringify(jws));
    await pushBlob(up.url, 'notary/tampered', envelope);
    const sigJson = JSON.parse(NOTATION.signatureManifest.toString('utf8')) as { layers: { digest: string; size: number }[] };
    sigJson.layers[0] = { ...sigJson.layers[0]!, digest: envelope.digest, size: envelope.size };
    const sigBody = Buffer.from(JSON.stringify(sigJson));
    await pushManifest(up.url, 'notary/tampered', sha256(sigBody), asManifest(sigBody, OCI_MANIFEST));

    const ok = await pull(mirror.url, 'notary/notary/e2e', 'v1');
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.digest, image.digest);
    const refused = await read('notary/notary/tampered', 'v1');
    assert.equal(refused.status, 403);
    assert.match(refused.body!.errors[0]!.message, /^policy "upstream-notary" requires a valid signature .*notation /);
    await assertNotCached('notary/notary/tampered', image);
  });

  it('audit mode caches and serves an unsigned image; an upstream without verify: is not judged', async () => {
    const m = await newImage('team/audited');
    assert.equal((await pull(mirror.url, 'watch/team/audited', 'v1')).status, 200);
    assert.equal((await pull(mirror.url, 'plain/team/audited', 'v1')).status, 200);
    assert.equal(await mirror.server.proxy!.base.tags.resolve('watch/team/audited', 'v1').then((d) => d?.value), m.digest);
  });

  it('skopeo copies a signed image through the cache and is refused an unsigned one with the policy named', async () => {
    const images = await sharedLabImages();
    for (const repo of ['lab/signed', 'lab/unsigned']) {
      await skopeo(['copy', '--quiet', '--dest-tls-verify=false', images.oci('tiny'), `docker://${up.host}/${repo}:v1`]);
    }
    const raw = await (await fetch(`${up.url}/v2/lab/signed/manifests/v1`, { headers: { accept: ACCEPT } })).arrayBuffer();
    const digest = sha256(Buffer.from(raw));
    await pushCosign(up.url, 'lab/signed', { digest } as Manifest, [await keySigned('lab/signed', digest, pki.keys.p256.key)]);

    const copied = await skopeoRun(['copy', '--src-tls-verify=false', `docker://${mirror.host}/hub/lab/signed:v1`, `oci:${join(work, 'layout')}:signed`]);
    assert.equal(copied.code, 0, copied.stderr);
    const inspected = await skopeoRun(['inspect', '--raw', '--tls-verify=false', `docker://${mirror.host}/hub/lab/signed:v1`]);
    assert.equal(sha256(Buffer.from(inspected.stdout)), digest);

    const refused = await skopeoRun(['copy', '--src-tls-verify=false', `docker://${mirror.host}/hub/lab/unsigned:v1`, `oci:${join(work, 'layout')}:unsigned`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied/i);
    // skopeo quotes the registry's message with escaped quotes.
    assert.match(refused.stderr, /policy \\?"upstream-keys\\?" requires a valid signature on hub\/lab\/unsigned@sha256:[0-9a-f]{64} from upstream \\?"hub\\?"/);
    assert.equal(await mirror.server.proxy!.base.tags.resolve('hub/lab/unsigned', 'v1'), undefined);
  });
});
