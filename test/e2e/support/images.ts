// Test images: the lab's reproducible OCI layouts (tiny, multilayer 5x10 MiB, multiarch index),
// built offline by ../shared/lab/make-images.sh, and reading OCI layouts back.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAKE_IMAGES } from './env.js';

export interface LabImages {
  dir: string;
  /** name -> manifest digest, from images.tsv. */
  digests: Map<string, string>;
  /** OCI layout reference, e.g. `oci:/tmp/x/multilayer:v1`. */
  oci(name: string): string;
  /** The docker-archive tarball skopeo made from the layout. */
  dockerArchive(name: string): string;
  digest(name: string): string;
}

export async function buildLabImages(dir: string): Promise<LabImages> {
  await new Promise<void>((resolve, reject) => {
    execFile('bash', [MAKE_IMAGES, dir], { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${MAKE_IMAGES} ${dir} failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
  return labImagesIn(dir);
}

/** The images make-images.sh left in `dir`, read from its images.tsv. */
export async function labImagesIn(dir: string): Promise<LabImages> {
  const digests = new Map<string, string>();
  for (const line of (await readFile(join(dir, 'images.tsv'), 'utf8')).split('\n')) {
    const [name, digest] = line.split('\t');
    if (name && digest) digests.set(name, digest.trim());
  }
  for (const name of ['tiny', 'multilayer', 'multiarch']) {
    if (!digests.has(name)) throw new Error(`images.tsv in ${dir} lists no ${name}`);
  }
  return {
    dir,
    digests,
    oci: (name) => `oci:${join(dir, name)}:v1`,
    dockerArchive: (name) => join(dir, `${name}.docker.tar`),
    digest: (name) => digests.get(name)!,
  };
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

/** The descriptor an OCI layout's index.json gives for `tag`. */
export async function layoutDescriptor(layoutDir: string, tag: string): Promise<Descriptor> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const found = index.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (found.length !== 1) throw new Error(`${layoutDir}/index.json has ${found.length} entries for tag ${tag}: ${JSON.stringify(index)}`);
  return found[0]!;
}

/** A blob of an OCI layout, by digest. */
export async function layoutBlob(layoutDir: string, digest: string): Promise<Buffer> {
  const [algorithm, hex] = digest.split(':');
  return readFile(join(layoutDir, 'blobs', algorithm!, hex!));
}
