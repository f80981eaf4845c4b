// `berth tag deleted [repository]` lists tags deleted or moved within `gc.tagrestore`;
// `berth tag restore <repository> <tag> [--digest D]` puts one back on the manifest it named.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { IndexedAssembly } from './indexed-assembly.js';

interface TagFlags {
  config?: string;
  json?: boolean;
  digest?: string;
}

export function registerTagCommand(program: Command, guard: (run: () => Promise<void>) => Promise<void>): void {
  const tag = program.command('tag').description('deleted tags: list them, restore one within gc.tagrestore');
  tag.command('deleted [repository]')
    .description('tags deleted or moved that can still be restored, newest first')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .option('--json', 'print JSON')
    .action(async (repository: string | undefined, flags: TagFlags) => guard(() => deletedCommand(repository, flags)));
  tag.command('restore <repository> <tag>')
    .description('put a deleted (or moved) tag back on the manifest it named')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .option('--digest <digest>', 'the manifest to restore it to, when the tag was deleted more than once')
    .action(async (repository: string, name: string, flags: TagFlags) => guard(() => restoreCommand(repository, name, flags)));
}

async function withAssembly(flags: TagFlags, what: string, run: (a: IndexedAssembly, windowMs: number) => Promise<void>): Promise<void> {
  const { config, warnings } = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  const { withIndexedAssembly } = await import('./indexed-assembly.js');
  await withIndexedAssembly(config, `berth tag ${what}: deleted tags are kept with the listing index, which is disabled (meta.index.enabled: false)`,
    (assembly) => run(assembly, config.gc.tagrestore));
}

async function deletedCommand(repository: string | undefined, flags: TagFlags): Promise<void> {
  const { restorableTags } = await import('../gc/tag-restore.js');
  await withAssembly(flags, 'deleted', async (a, windowMs) => {
    const rows = await restorableTags(a.meta, windowMs, repository !== undefined ? { repository } : {});
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, deletedAt: new Date(r.deletedAt).toISOString(), restorableUntil: new Date(r.restorableUntil).toISOString() })), null, 2)}\n`);
      return;
    }
    for (const r of rows) {
      process.stdout.write(`${r.repository}:${r.tag}\t${r.digest}\t${r.reason === 'retag' ? 'moved' : 'deleted'} ${new Date(r.deletedAt).toISOString()}\trestorable until ${new Date(r.restorableUntil).toISOString()}\n`);
    }
    if (rows.length === 0) process.stdout.write('no restorable tags\n');
  });
}

async function restoreCommand(repository: string, tag: string, flags: TagFlags): Promise<void> {
  const { restoreTag, TagRestoreError } = await import('../gc/tag-restore.js');
  await withAssembly(flags, 'restore', async (a, windowMs) => {
    try {
      const row = await restoreTag(a.meta, a.registry, repository, tag, { windowMs, ...(flags.digest !== undefined ? { digest: flags.digest } : {}) });
      process.stdout.write(`restored ${repository}:${tag} -> ${row.digest}\n`);
    } catch (err) {
      if (!(err instanceof TagRestoreError)) throw err;
      process.stderr.write(`berth tag restore: ${err.message}\n`);
      process.exitCode = 1;
    }
  });
}
