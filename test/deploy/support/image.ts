// Berth's container image for the tests, built by scripts/build-image.sh once per content: the
// archive is kept in the OS temp dir under a key of everything that goes into it (the script,
// deploy/image, the lock file, the compiled dist/src), so one CI run builds it once and a re-run
// of an unchanged checkout does not build it again.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../../e2e/support/env.js';
import { mustRun } from '../../e2e/support/run.js';

export interface BerthImage {
  /** The OCI archive (`oci-archive:` for skopeo, `podman load -i`). */
  archive: string;
  /** Its name inside the archive and after `podman load`. */
  name: string;
  /** Uncompressed size of its root filesystem, bytes (as the build script reports it). */
  size: number;
}

export const IMAGE_NAME = 'localhost/berth:latest';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await filesUnder(full));
    else out.push(full);
  }
  return out;
}

async function contentKey(): Promise<string> {
  const hash = createHash('sha256');
  const files = [
    join(PROJECT_ROOT, 'scripts', 'build-image.sh'), join(PROJECT_ROOT, 'package-lock.json'), join(PROJECT_ROOT, 'bin', 'berth.js'),
    ...await filesUnder(join(PROJECT_ROOT, 'deploy', 'image')), ...await filesUnder(join(PROJECT_ROOT, 'dist', 'src')),
  ];
  for (const f of files) hash.update(relative(PROJECT_ROOT, f)).update('\0').update(await readFile(f)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

export async function berthImage(): Promise<BerthImage> {
  const dir = join(tmpdir(), `berth-image-${await contentKey()}`);
  const archive = join(dir, 'berth.tar');
  const sizeFile = join(dir, 'size');
  if (!existsSync(sizeFile)) {
    const staging = `${dir}.building-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const out = await mustRun('bash', [join(PROJECT_ROOT, 'scripts', 'build-image.sh'), join(staging, 'berth.tar')], { timeoutMs: 600_000 });
    await writeFile(join(staging, 'size'), out.trim().split('\n').pop()!);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  }
  return { archive, name: IMAGE_NAME, size: Number(await readFile(sizeFile, 'utf8')) };
}
