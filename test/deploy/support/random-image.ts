// Unique, runnable-looking images for load tests: an OCI layout with gzip-compressed tar layers
// of random bytes and a config whose diff_ids match, so docker and containerd load and push it
// like any built image (skopeo turns the layout into the archive they import).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tarOf(name: string, content: Buffer): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((resolve, reject) => { p.on('end', resolve); p.on('error', reject); });
  p.entry({ name, size: content.length, mode: 0o644, mtime: new Date(0) }, content);
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export interface RandomImage {
  /** `oci:DIR:v1` */
  layout: string;
  /** The manifest digest. */
  digest: string;
  /** Total bytes of its blobs. */
  bytes: number;
}

/** Writes an image of `layers` random layers of `layerSize` bytes (before gzip) into `dir`. */
export async function writeRandomImage(dir: string, layers: number, layerSize: number): Promise<RandomImage> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (data: Buffer) => {
    const digest = sha256(data);
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const layerDescs = [];
  const diffIds = [];
  let bytes = 0;
  for (let i = 0; i < layers; i++) {
    const tar = await tarOf(`data-${i}.bin`, randomBytes(layerSize));
    diffIds.push(sha256(tar));
    // Level 1: random bytes do not compress; the time goes nowhere useful.
    const d = await put(gzipSync(tar, { level: 1 }));
    bytes += d.size;
    layerDescs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...d });
  }
  const config = await put(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/data-0.bin'] }, rootfs: { type: 'layers', diff_ids: diffIds },
  })));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: layerDescs,
  }));
  const m = await put(manifest);
  bytes += config.size + m.size;
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }));
  return { layout: `oci:${dir}:v1`, digest: m.digest, bytes };
}
