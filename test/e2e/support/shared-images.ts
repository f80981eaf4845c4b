// The lab's test images built once per machine and shared by the client test files, which run
// in parallel processes: make-images.sh takes ~10 s of two busy cores, and its output is
// reproducible, so a copy keyed by the script's own hash stays valid until the script changes.
// Clients only read these layouts and archives.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAKE_IMAGES } from './env.js';
import { buildLabImages, labImagesIn, type LabImages } from './images.js';

const NAMES = ['tiny', 'multilayer', 'multiarch'];

export async function sharedLabImages(): Promise<LabImages> {
  const key = createHash('sha256').update(await readFile(MAKE_IMAGES)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `berth-e2e-lab-images-${key}`);
  if (!complete(dir)) {
    const staging = `${dir}.building-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await buildLabImages(staging);
    // A damaged copy (files removed by hand) is replaced, never trusted.
    if (existsSync(dir) && !complete(dir)) await rm(dir, { recursive: true, force: true });
    try {
      await rename(staging, dir);
    } catch (err) {
      // Another test process finished first (ENOTEMPTY/EEXIST): use its copy, drop ours.
      await rm(staging, { recursive: true, force: true });
      if (!complete(dir)) throw err;
    }
  }
  return labImagesIn(dir);
}

function complete(dir: string): boolean {
  if (!existsSync(join(dir, 'images.tsv'))) return false;
  return NAMES.every((n) => existsSync(join(dir, n, 'index.json'))) && existsSync(join(dir, 'tiny.docker.tar'));
}
