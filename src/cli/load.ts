// `berth load FILE --to REGISTRY`: every image of a docker-archive (or the tagged images of an
// oci-archive) pushed to REGISTRY under its own repository and tag.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { unpacked } from '../transport/oci-archive.js';
import { DockerArchiveSource } from '../transport/docker-archive.js';
import { OciLayoutSource, REF_NAME } from '../transport/oci-layout.js';
import { openDestination } from '../transport/open.js';
import { copyImage, parsePlatform } from '../transport/copy.js';
import { parseImageReference } from '../client/index.js';
import { parseTransportReference } from '../transport/reference.js';
import { sideOptions } from './transfer-options.js';
import { outputMode, reporter } from './progress.js';
import type { CopyFlags } from './copy-flags.js';
import type { ImageSource } from '../transport/types.js';

/** REGISTRY[/prefix] + a name from the archive (`host/team/app:v1` keeps `team/app:v1`). */
function target(to: string, name: string): string {
  const ref = parseImageReference(name.includes('/') || name.includes(':') ? name : `${name}:latest`);
  const path = name.split('/')[0]!.match(/[.:]|^localhost$/) ? ref.repository : ref.repository.replace(/^library\//, '');
  return `docker://${to.replace(/\/$/, '')}/${path}:${ref.tag ?? 'latest'}`;
}

export async function loadArchive(file: string, flags: CopyFlags & { to: string }): Promise<void> {
  const mode = outputMode(flags);
  const report = reporter(mode);
  const dir = await unpacked(file);
  const results: Array<Record<string, unknown>> = [];
  try {
    const isDocker = await readFile(join(dir, 'manifest.json')).then(() => true, () => false);
    const jobs: Array<{ name: string; open: () => Promise<ImageSource> }> = [];
    if (isDocker) {
      const entries = await DockerArchiveSource.list(dir);
      entries.forEach((e, i) => {
        for (const name of e.RepoTags ?? []) jobs.push({ name, open: () => DockerArchiveSource.open(file, `@${i}`, dir) });
      });
    } else {
      const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
      for (const m of index.manifests) {
        const name = m.annotations?.[REF_NAME];
        if (name) jobs.push({ name, open: async () => new OciLayoutSource(dir, name) });
      }
    }
    if (jobs.length === 0) throw new Error(`${file} holds no named image to load`);
    for (const job of jobs) {
      const dest = parseTransportReference(target(flags.to, job.name));
      const source = await job.open();
      const opened = await openDestination(dest, sideOptions(flags, 'dest'));
      try {
        const r = await copyImage(source, opened.destination, {
          platforms: flags.all ? 'all' : flags.platform ? parsePlatform(flags.platform) : 'all', referrers: true,
          jobs: Number(flags.jobs ?? 4), tag: opened.tag, onEvent: (e) => report.onEvent(e),
        });
        results.push({ image: job.name, destination: opened.destination.description, ...r });
        report.say(`loaded ${job.name} -> ${opened.destination.description} ${r.digest}`);
      } finally {
        await opened.destination.close();
      }
    }
  } finally {
    report.stop();
    await rm(dir, { recursive: true, force: true });
  }
  if (mode === 'json') process.stdout.write(`${JSON.stringify({ file, images: results })}\n`);
}
