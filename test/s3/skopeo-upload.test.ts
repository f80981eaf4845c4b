// A real client pushing a big layer to `berth serve` on S3 (radosgw): skopeo sends the layer as
// one streamed PATCH, which Berth turns into parts of an open multipart upload, then a PUT that
// completes it. The layer comes back byte for byte and the bucket keeps no upload leftovers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { IN_CI, removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { copy } from '../e2e/support/skopeo.js';
import { newBucket, radosgw, radosgwSkip, s3Client, stopRadosgw, type RadosGateway } from './support/radosgw.js';
import { s3Storage, startBerthS3, type Server } from './support/servers.js';

const clients = requireClients('skopeo');
const skip = radosgwSkip || clients.skip;
const MiB = 1024 * 1024;
const LAYER_BYTES = 96 * MiB + 12_345;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * An OCI layout holding one image whose only layer is `layer`, already gzipped: skopeo compresses
 * uncompressed layers on the way to a registry, which would change the digest.
 */
async function writeLayout(dir: string, layer: Buffer): Promise<string> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (data: Buffer) => {
    const hex = sha256(data);
    await writeFile(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] } })));
  const layerDesc = await put(layer);
  const manifest = await put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layerDesc }],
  })));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }));
  return layerDesc.digest;
}

describe('skopeo pushes a big layer to Berth on S3', { skip }, () => {
  let gw: RadosGateway;
  let bucket: string;
  let berth: Server | undefined;
  let dir: string | undefined;

  before(async () => {
    if (IN_CI) clients.assertPresent();
    dir = await tempDir('s3-skopeo-upload');
    gw = await radosgw();
    bucket = await newBucket(gw);
    berth = await startBerthS3(dir, () => ({ storage: { s3: s3Storage(gw, bucket, '/big'), delete: { enabled: true } } }));
  });
  after(async () => {
    await berth?.stop();
    await removeDir(dir);
    await stopRadosgw();
  });

  it(`pushes a ${Math.round(LAYER_BYTES / MiB)} MiB layer and pulls it back identical, leaving no upload behind`, async () => {
    const layer = gzipSync(randomBytes(LAYER_BYTES), { level: 1 });
    const digest = await writeLayout(join(dir!, 'in'), layer);
    await copy(`oci:${join(dir!, 'in')}:v1`, `docker://${berth!.host}/big/layer:v1`);
    await copy(`docker://${berth!.host}/big/layer:v1`, `oci:${join(dir!, 'out')}:v1`);
    const pulled = await readFile(join(dir!, 'out', 'blobs', 'sha256', digest.slice('sha256:'.length)));
    assert.equal(pulled.length, layer.length);
    assert.equal(`sha256:${sha256(pulled)}`, digest);

    const client = s3Client(gw);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    const leftovers = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'big/docker/registry/v2/repositories/big/layer/_uploads/' }));
    client.destroy();
    assert.deepEqual(uploads.Uploads ?? [], [], 'no multipart upload left open');
    assert.deepEqual((leftovers.Contents ?? []).map((o) => o.Key), [], 'no upload session left');
  });
});
