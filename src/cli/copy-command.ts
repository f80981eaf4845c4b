// `berth copy`, `berth save`, `berth load` and `berth login`: moving images between registries,
// OCI layouts and tarballs through the copy engine, and storing credentials as docker login does.
import type { Command } from 'commander';
import { parseTransportReference, formatTransportReference, type TransportReference } from '../transport/reference.js';
import { openDestination, openSource } from '../transport/open.js';
import { copyImage, parsePlatform, type CopyResult } from '../transport/copy.js';
import { addTransferOptions, sideOptions } from './transfer-options.js';
import { outputMode, reporter, type Reporter } from './progress.js';
import type { ImageDestination } from '../transport/types.js';
import type { CopyFlags } from './copy-flags.js';

export type { CopyFlags };

/** Copies one image; `destination` may be shared (several images into one archive). */
export async function copyOne(src: TransportReference, dst: TransportReference, flags: CopyFlags, report: Reporter, shared?: { destination: ImageDestination; tag: string | undefined }): Promise<CopyResult> {
  const { source, origin } = await openSource(src, sideOptions(flags, 'src'));
  const opened = shared ?? await openDestination(dst, sideOptions(flags, 'dest'));
  try {
    const result = await copyImage(source, opened.destination, {
      platforms: flags.all ? 'all' : flags.platform ? parsePlatform(flags.platform) : undefined,
      referrers: !!flags.referrers,
      jobs: Number(flags.jobs ?? 4),
      tag: opened.tag,
      retries: Number(flags.retries ?? 3),
      origin,
      onEvent: (e) => report.onEvent(e),
    });
    if (!shared) await opened.destination.commit();
    return result;
  } finally {
    await source.close();
    if (!shared) await opened.destination.close();
  }
}

function copyFlags(cmd: Command): Command {
  return addTransferOptions(cmd)
    .option('--all', 'copy every platform of an index (default: only this machine\'s platform)')
    .option('--platform <os/arch[/variant]>', 'copy only this platform of an index')
    .option('--referrers', 'copy referrers (signatures, SBOMs, attestations) along')
    .option('-j, --jobs <n>', 'blobs transferred at once', '4')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--json', 'print the result as JSON on stdout');
}

async function guarded(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    process.stderr.write(`berth: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

function summary(r: CopyResult): string {
  return `${r.digest} (${r.manifests} manifest(s), ${r.blobsCopied} blob(s) copied ${r.bytesCopied} bytes, ${r.blobsSkipped} already there, ${r.blobsMounted} mounted, ${r.referrers} referrer(s))`;
}

export function registerCopyCommands(program: Command): void {
  copyFlags(program.command('copy')
    .description('copy an image: docker://HOST/REPO:TAG, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF]')
    .argument('<source>').argument('<destination>'))
    .action((src: string, dst: string, flags: CopyFlags) => guarded(async () => {
      const mode = outputMode(flags);
      const report = reporter(mode);
      const from = parseTransportReference(src);
      const to = parseTransportReference(dst);
      try {
        const r = await copyOne(from, to, flags, report);
        if (mode === 'json') process.stdout.write(`${JSON.stringify({ source: formatTransportReference(from), destination: formatTransportReference(to), ...r })}\n`);
        else report.say(`copied ${summary(r)}`);
      } finally {
        report.stop();
      }
    }));

  copyFlags(program.command('save')
    .description('save images to a docker-archive tarball (docker load reads it)')
    .argument('<images...>').requiredOption('-o, --output <file>', 'the tarball to write')
    .option('--format <format>', 'docker-archive or oci-archive', 'docker-archive'))
    .action((images: string[], flags: CopyFlags & { output: string; format: string }) => guarded(async () => {
      const mode = outputMode(flags);
      const report = reporter(mode);
      const target = parseTransportReference(`${flags.format}:${flags.output}`);
      const shared = await openDestination(target, sideOptions(flags, 'dest'));
      const results = [];
      try {
        for (const image of images) {
          const ref = parseTransportReference(image);
          const name = ref.kind === 'docker' ? `${ref.image.host}/${ref.image.repository}:${ref.image.tag ?? 'latest'}` : undefined;
          const r = await copyOne(ref, target, flags, report, { destination: shared.destination, tag: flags.format === 'docker-archive' ? name : ref.kind === 'docker' ? ref.image.tag : undefined });
          results.push({ image, ...r });
          report.say(`saved ${image} ${summary(r)}`);
        }
        await shared.destination.commit();
      } finally {
        await shared.destination.close();
        report.stop();
      }
      if (mode === 'json') process.stdout.write(`${JSON.stringify({ output: flags.output, images: results })}\n`);
    }));

  copyFlags(program.command('load')
    .description('push every image of a docker-archive (docker save) or oci-archive tarball to a registry')
    .argument('<file>').requiredOption('--to <registry[/prefix]>', 'registry (and optional repository prefix) to push to'))
    .action((file: string, flags: CopyFlags & { to: string }) => guarded(async () => {
      const { loadArchive } = await import('./load.js');
      await loadArchive(file, flags);
    }));

  program.command('login')
    .description('store credentials for a registry in Docker\'s config.json (as docker login does)')
    .argument('<registry>')
    .option('-u, --username <user>').option('-p, --password <password>').option('--password-stdin', 'read the password from stdin')
    .option('--plain-http').option('--insecure').option('--ca <file>')
    .action((registry: string, flags: { username?: string; password?: string; passwordStdin?: boolean; plainHttp?: boolean; insecure?: boolean; ca?: string }) => guarded(async () => {
      const { login } = await import('./login.js');
      await login(registry, flags);
    }));
}
