// Blob downloads by redirect, end to end on a real S3 (radosgw): CloudFront signed URLs checked
// by a stand-in edge (and by openssl), presigned S3 URLs for clients inside the filtered AWS
// ranges and by default on S3, and skopeo pulling with every blob byte coming from the edge.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IN_CI, requireClients, tempDir } from '../e2e/support/env.js';
import { buildLabImages, type LabImages } from '../e2e/support/images.js';
import { copy } from '../e2e/support/skopeo.js';
import { cloudFrontSignedUrl } from '../../src/storage/middleware/cloudfront-signer.js';
import { newBucket, radosgw, radosgwSkip, s3Client, stopRadosgw, type RadosGateway } from './support/radosgw.js';
import { s3Storage, startBerthS3, startDistributionS3, type Server } from './support/servers.js';
import { startEdge, type Edge } from './support/edge.js';

const run = promisify(execFile);
const clients = requireClients('skopeo', 'openssl');
const distribution = requireClients('docker-registry');
const KEY_PAIR_ID = 'K2JCJMDEHXQW5F';
const AWS_CLIENT = '203.0.113.9';

describe('blob GET redirects on S3', { skip: radosgwSkip || clients.skip }, () => {
  let gw: RadosGateway;
  let dir: string;
  let images: LabImages;
  let storage: Record<string, unknown>;
  let privateKeyFile: string;
  let edge: Edge;
  let cdn: Server | undefined;
  let presign: Server | undefined;
  let direct: Server | undefined;
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });

  before(async () => {
    if (IN_CI) clients.assertPresent();
    dir = await tempDir('s3-redirects');
    gw = await radosgw();
    const bucket = await newBucket(gw);
    images = await buildLabImages(join(dir, 'images'));
    privateKeyFile = join(dir, 'cloudfront.pem');
    await writeFile(privateKeyFile, keys.privateKey.export({ type: 'pkcs1', format: 'pem' }));
    await writeFile(join(dir, 'public.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
    const ipRanges = join(dir, 'ip-ranges.json');
    await writeFile(ipRanges, JSON.stringify({
      prefixes: [{ ip_prefix: '203.0.113.0/24', region: 'eu-west-1', service: 'AMAZON' },
        { ip_prefix: '198.51.100.0/24', region: 'us-east-2', service: 'AMAZON' }],
      ipv6_prefixes: [],
    }));
    // Set up as for registry:2: origin = the bucket, no origin path; the URL carries rootdirectory.
    edge = await startEdge({ publicKey: keys.publicKey, keyPairId: KEY_PAIR_ID, client: s3Client(gw), bucket, originPath: '/' });
    storage = s3Storage(gw, bucket, '/reg');
    cdn = await startBerthS3(dir, () => ({
      storage: { s3: storage },
      middleware: {
        storage: [{
          name: 'cloudfront',
          options: {
            baseurl: edge.url, privatekey: privateKeyFile, keypairid: KEY_PAIR_ID, duration: '300s',
            ipfilteredby: 'awsregion', awsregion: 'eu-west-1', iprangesfile: ipRanges, updatefrequency: '12h',
            // The test's own hop (127.0.0.1) and the proxy chain behind it (10.x) are trusted.
            trustedproxies: ['127.0.0.1/32', '10.0.0.0/8'],
          },
        }],
      },
    }));
    presign = await startBerthS3(dir, () => ({ storage: { s3: storage, redirect: { expiry: '2m' } } }));
    direct = await startBerthS3(dir, () => ({ storage: { s3: storage, redirect: { disable: true } } }));
    await copy(images.oci('multilayer'), `docker://${direct.host}/redirect/multilayer:v1`);
  });
  after(async () => {
    await Promise.all([cdn?.stop(), presign?.stop(), direct?.stop()]);
    await edge?.close();
    await stopRadosgw();
  });

  const firstLayer = async (): Promise<{ digest: string; size: number }> => {
    const res = await fetch(`${direct!.url}/v2/redirect/multilayer/manifests/v1`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const manifest = await res.json() as { layers: Array<{ digest: string; size: number }> };
    return manifest.layers[0]!;
  };
  const blobUrl = (server: Server, digest: string) => `${server.url}/v2/redirect/multilayer/blobs/${digest}`;

  it('skopeo pulls through Berth with CloudFront redirects, every blob byte from the edge', async () => {
    const before = edge.bytesServed;
    const out = join(dir, 'pulled-cdn');
    await copy(`docker://${cdn!.host}/redirect/multilayer:v1`, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(await readFile(join(out, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as {
      config: { size: number }; layers: Array<{ size: number }>;
    };
    const blobBytes = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    assert.ok(blobBytes > 50 * 1024 * 1024, `the image has 5 x 10 MiB layers (${blobBytes})`);
    assert.equal(edge.bytesServed - before, blobBytes, 'the edge served exactly the blobs');
    assert.deepEqual(edge.refused, []);
  });

  it('answers a blob GET with 307 to a CloudFront URL signed for `duration`, and serves HEAD itself', async () => {
    const layer = await firstLayer();
    const res = await fetch(blobUrl(cdn!, layer.digest), { redirect: 'manual' });
    assert.equal(res.status, 307);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin, edge.url);
    assert.equal(location.searchParams.get('Key-Pair-Id'), KEY_PAIR_ID);
    const expires = Number(location.searchParams.get('Expires'));
    const now = Date.now() / 1000;
    assert.ok(expires > now + 200 && expires <= now + 301, `Expires ${expires} is about 300 s ahead of ${now}`);
    const head = await fetch(blobUrl(cdn!, layer.digest), { method: 'HEAD', redirect: 'manual' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(layer.size));
  });

  it('makes signatures openssl verifies with the public key, over the canned policy', async () => {
    const layer = await firstLayer();
    const res = await fetch(blobUrl(cdn!, layer.digest), { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    const resource = `${location.origin}${location.pathname}`;
    const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${location.searchParams.get('Expires')}}}}]}`;
    const signature = location.searchParams.get('Signature')!;
    assert.match(signature, /^[A-Za-z0-9~_-]+$/, 'CloudFront\'s URL-safe base64');
    await writeFile(join(dir, 'policy.json'), policy);
    await writeFile(join(dir, 'policy-tampered.json'), policy.replace(resource, `${resource}x`));
    await writeFile(join(dir, 'sig.bin'), Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64'));
    const ok = await run('openssl', ['dgst', '-sha1', '-verify', join(dir, 'public.pem'), '-signature', join(dir, 'sig.bin'), join(dir, 'policy.json')]);
    assert.match(ok.stdout, /Verified OK/);
    await assert.rejects(run('openssl', ['dgst', '-sha1', '-verify', join(dir, 'public.pem'), '-signature', join(dir, 'sig.bin'), join(dir, 'policy-tampered.json')]));
  });

  it('the edge serves a valid URL and refuses a bad signature or an expired URL with 403', async () => {
    const layer = await firstLayer();
    const res = await fetch(blobUrl(cdn!, layer.digest), { redirect: 'manual' });
    const good = res.headers.get('location')!;
    const body = Buffer.from(await (await fetch(good)).arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(body).digest('hex')}`, layer.digest);
    const badSig = new URL(good);
    const sig = badSig.searchParams.get('Signature')!;
    badSig.searchParams.set('Signature', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
    assert.equal((await fetch(badSig)).status, 403);
    const path = new URL(good).pathname;
    const expired = cloudFrontSignedUrl(`${edge.url}${path}`, new Date(Date.now() - 1000), KEY_PAIR_ID, keys.privateKey);
    assert.equal((await fetch(expired)).status, 403);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = cloudFrontSignedUrl(`${edge.url}${path}`, new Date(Date.now() + 60_000), KEY_PAIR_ID, otherKey);
    assert.equal((await fetch(forged)).status, 403);
  });

  it('redirects to the same CloudFront URL path as Distribution 2.8 with the same middleware, rootdirectory included', { skip: distribution.skip }, async () => {
    if (IN_CI) distribution.assertPresent();
    const layer = await firstLayer();
    const dist = await startDistributionS3(dir, storage, {
      storage: [{ name: 'cloudfront', options: { baseurl: edge.url, privatekey: privateKeyFile, keypairid: KEY_PAIR_ID, duration: '300s' } }],
    });
    try {
      const location = async (server: Server) => {
        const res = await fetch(blobUrl(server, layer.digest), { redirect: 'manual' });
        assert.equal(res.status, 307, `${server.host}: ${res.status}`);
        return new URL(res.headers.get('location')!);
      };
      const theirs = await location(dist);
      const ours = await location(cdn!);
      assert.equal(`${ours.origin}${ours.pathname}`, `${theirs.origin}${theirs.pathname}`);
      assert.match(ours.pathname, /^\/reg\/docker\/registry\/v2\/blobs\/sha256\//);
      assert.equal((await fetch(theirs)).status, 200, "the edge serves Distribution's URL");
      assert.equal((await fetch(ours)).status, 200, "and Berth's");
    } finally {
      await dist.stop();
    }
  });

  it('sends a client inside the filtered AWS region to S3 directly; X-Forwarded-For counts behind a trusted proxy', async () => {
    const layer = await firstLayer();
    const from = async (xff: string) => {
      const res = await fetch(blobUrl(cdn!, layer.digest), { redirect: 'manual', headers: { 'X-Forwarded-For': xff } });
      assert.equal(res.status, 307);
      return new URL(res.headers.get('location')!);
    };
    const inRegion = await from(`${AWS_CLIENT}, 10.0.0.1`);
    assert.equal(inRegion.origin, new URL(gw.endpoint).origin, 'a presigned S3 URL');
    assert.ok(inRegion.searchParams.get('X-Amz-Signature'));
    const body = Buffer.from(await (await fetch(inRegion)).arrayBuffer());
    assert.equal(body.length, layer.size);
    assert.equal((await from('198.51.100.7')).origin, edge.url, 'another region goes through the CDN');
    assert.equal((await from('192.0.2.1')).origin, edge.url, 'outside AWS goes through the CDN');
  });

  it('on S3 alone, answers a blob GET with 307 to a presigned URL the bucket serves; with redirect.disable, serves it itself', async () => {
    const layer = await firstLayer();
    const res = await fetch(blobUrl(presign!, layer.digest), { redirect: 'manual' });
    assert.equal(res.status, 307);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin, new URL(gw.endpoint).origin);
    assert.equal(location.searchParams.get('X-Amz-Expires'), '120');
    const viaS3 = Buffer.from(await (await fetch(location)).arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(viaS3).digest('hex')}`, layer.digest);
    const served = await fetch(blobUrl(direct!, layer.digest), { redirect: 'manual' });
    assert.equal(served.status, 200);
    assert.equal(Buffer.from(await served.arrayBuffer()).length, layer.size);
  });

  it('advertises OCI-Chunk-Min-Length (the S3 part size) on upload responses, and takes chunks of it', async () => {
    const start = await fetch(`${presign!.url}/v2/redirect/chunked/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    assert.equal(start.headers.get('oci-chunk-min-length'), String(5 * 1024 * 1024));
    const data = randomBytes(12 * 1024 * 1024 + 17);
    let location = new URL(start.headers.get('location')!, presign!.url).href;
    const chunk = 5 * 1024 * 1024;
    for (let at = 0; at < data.length; at += chunk) {
      const part = data.subarray(at, at + chunk);
      const res = await fetch(location, {
        method: 'PATCH', body: part,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${at}-${at + part.length - 1}` },
      });
      assert.equal(res.status, 202, await res.text());
      location = new URL(res.headers.get('location')!, presign!.url).href;
    }
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const done = await fetch(`${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
    assert.equal(done.status, 201, await done.text());
    const back = await fetch(`${direct!.url}/v2/redirect/chunked/blobs/${digest}`);
    assert.equal(`sha256:${createHash('sha256').update(Buffer.from(await back.arrayBuffer())).digest('hex')}`, digest);
  });
});
