// `berth sync SRC DST`: mirrors whole repositories, or the images a YAML file lists, into
// another registry, copying only the tags whose digest differs at the destination.
// SRC is `docker://HOST/REPO` (every tag, or those matching --tag-regex) or a YAML file in
// skopeo sync's format:
//   registry.example:5000:
//     credentials: { username: u, password: p }
//     images: { team/app: [v1, v2], team/all-tags: [] }
//     images-by-tag-regex: { team/web: '^v[0-9]+' }
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { isValidName } from '../oci/reference.js';
import { parseImageReference } from '../client/index.js';
import { parseTransportReference } from '../transport/reference.js';
import { registryClient } from '../transport/open.js';
import { mirroredTags } from '../transport/mirror.js';
import { addTransferOptions, sideOptions } from './transfer-options.js';
import { copyOne, type CopyFlags } from './copy-command.js';
import { outputMode, reporter } from './progress.js';

interface SyncItem {
  host: string;
  repository: string;
  tags?: string[];
  regex?: RegExp;
  creds?: { username: string; password: string };
}

interface RegistryEntry {
  credentials?: { username?: string; password?: string };
  images?: Record<string, string[] | null>;
  'images-by-tag-regex'?: Record<string, string>;
}

export function parseSyncFile(text: string): SyncItem[] {
  const doc = parseYaml(text) as Record<string, RegistryEntry> | null;
  if (!doc || typeof doc !== 'object') throw new Error('the sync file must map registries to images');
  const items: SyncItem[] = [];
  for (const [host, entry] of Object.entries(doc)) {
    const creds = entry?.credentials?.username !== undefined ? { username: entry.credentials.username, password: entry.credentials.password ?? '' } : undefined;
    const unknown = Object.keys(entry ?? {}).filter((k) => !['credentials', 'images', 'images-by-tag-regex', 'tls-verify'].includes(k));
    if (unknown.length) throw new Error(`${host}: unknown key(s) ${unknown.join(', ')} (known: images, images-by-tag-regex, credentials)`);
    for (const [repository, tags] of Object.entries(entry?.images ?? {})) {
      if (!isValidName(repository)) throw new Error(`${host}: invalid repository name "${repository}"`);
      items.push({ host, repository, ...(tags && tags.length ? { tags } : {}), ...(creds ? { creds } : {}) });
    }
    for (const [repository, pattern] of Object.entries(entry?.['images-by-tag-regex'] ?? {})) {
      if (!isValidName(repository)) throw new Error(`${host}: invalid repository name "${repository}"`);
      items.push({ host, repository, regex: new RegExp(pattern), ...(creds ? { creds } : {}) });
    }
  }
  return items;
}

interface SyncFlags extends CopyFlags {
  tagRegex?: string;
  dryRun?: boolean;
}

async function itemsOf(src: string, flags: SyncFlags): Promise<SyncItem[]> {
  if (src.startsWith('docker://')) {
    const ref = parseImageReference(src.slice('docker://'.length));
    const explicitTag = /:[^/]+$/.test(src.slice('docker://'.length)) ? ref.tag : undefined;
    return [{ host: ref.host, repository: ref.repository, ...(explicitTag ? { tags: [explicitTag] } : {}), ...(flags.tagRegex ? { regex: new RegExp(flags.tagRegex) } : {}) }];
  }
  return parseSyncFile(await readFile(src, 'utf8'));
}

export function registerSyncCommand(program: Command): void {
  addTransferOptions(program.command('sync')
    .description('mirror repositories (docker://HOST/REPO, or a skopeo-sync YAML file) into docker://HOST[/PREFIX], copying only changed tags')
    .argument('<source>').argument('<destination>'))
    .option('--tag-regex <regex>', 'only tags matching this regular expression (docker:// sources)')
    .option('--platform <os/arch[/variant]>', 'only this platform of each index (default: all platforms)')
    .option('--referrers', 'copy referrers (signatures, SBOMs) along')
    .option('-j, --jobs <n>', 'blobs transferred at once', '4')
    .option('--dry-run', 'list what would be copied, copy nothing')
    .option('-q, --quiet').option('--json', 'print the result as JSON on stdout')
    .action(async (src: string, dst: string, flags: SyncFlags) => {
      try {
        await sync(src, dst, flags);
      } catch (err) {
        process.stderr.write(`berth: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

async function sync(src: string, dst: string, flags: SyncFlags): Promise<void> {
  const mode = outputMode(flags);
  const report = reporter(mode);
  const dest = parseImageReference(`${dst.replace(/^docker:\/\//, '').replace(/\/$/, '')}/x`);
  const prefix = dest.repository.replace(/\/?x$/, '').replace(/^library$/, '');
  const results: Array<{ source: string; destination: string; digest: string; status: 'copied' | 'unchanged' | 'would copy' }> = [];
  const destClient = await registryClient(dest.host, sideOptions(flags, 'dest'));
  try {
    for (const item of await itemsOf(src, flags)) {
      const side = { ...sideOptions(flags, 'src'), ...(item.creds ? { creds: item.creds } : {}) };
      const srcClient = await registryClient(item.host, side);
      try {
        const tags = item.tags ?? await srcClient.listTags(item.repository);
        const selected = mirroredTags(tags, item.regex);
        const destRepo = prefix ? `${prefix}/${item.repository}` : item.repository;
        for (const tag of selected) {
          const from = `docker://${item.host}/${item.repository}:${tag}`;
          const to = `docker://${dest.host}/${destRepo}:${tag}`;
          const [have, want] = await Promise.all([destClient.headManifest(destRepo, tag), srcClient.headManifest(item.repository, tag)]);
          if (want?.digest && have?.digest === want.digest) {
            results.push({ source: from, destination: to, digest: want.digest, status: 'unchanged' });
            report.say(`${from} unchanged`);
            continue;
          }
          if (flags.dryRun) {
            results.push({ source: from, destination: to, digest: want?.digest ?? '', status: 'would copy' });
            report.say(`${from} -> ${to} would be copied`);
            continue;
          }
          const copyFlags: CopyFlags = { ...flags, all: !flags.platform, ...(item.creds ? { srcCreds: `${item.creds.username}:${item.creds.password}` } : {}) };
          const r = await copyOne(parseTransportReference(from), parseTransportReference(to), copyFlags, report);
          results.push({ source: from, destination: to, digest: r.digest, status: 'copied' });
          report.say(`${from} -> ${to} ${r.digest}`);
        }
      } finally {
        await srcClient.close();
      }
    }
  } finally {
    await destClient.close();
    report.stop();
  }
  if (mode === 'json') process.stdout.write(`${JSON.stringify({ images: results })}\n`);
  else if (mode !== 'quiet') process.stderr.write(`${results.filter((r) => r.status === 'copied').length} copied, ${results.filter((r) => r.status === 'unchanged').length} unchanged\n`);
}
