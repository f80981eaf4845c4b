// `berth index rebuild` and `berth index verify`: the listing index (catalog, tag lists,
// referrers) re-read from storage, or compared with it. Both are safe while `berth serve` runs:
// a repository changed during its re-read is left to the server's periodic repair.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';

interface IndexFlags {
  config?: string;
}

export function registerIndexCommand(program: Command, guard: (run: () => Promise<void>) => Promise<void>): void {
  const index = program.command('index').description('the listing index (catalog, tag lists, referrers) in the metadata database');
  index.command('rebuild').argument('[config]', 'a Distribution-style config.yml')
    .description('re-read every repository from storage into the index (after another writer, such as registry:2, changed storage)')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .action(async (positional: string | undefined, flags: IndexFlags) => guard(() => indexCommand('rebuild', flags.config ?? positional)));
  index.command('verify').argument('[config]', 'a Distribution-style config.yml')
    .description('compare the index with storage; prints each difference and exits 1 when there is any')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .action(async (positional: string | undefined, flags: IndexFlags) => guard(() => indexCommand('verify', flags.config ?? positional)));
}

async function indexCommand(action: 'rebuild' | 'verify', file: string | undefined): Promise<void> {
  const { config, warnings } = loadConfig({ ...(file ? { file } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  if (!config.meta.index.enabled) {
    process.stderr.write('berth index: the listing index is disabled (meta.index.enabled: false); listings walk storage\n');
    process.exitCode = 2;
    return;
  }
  const [{ assemble }, { commandLogger }, { metaOptionsFromConfig }, sync] = await Promise.all([
    import('../server/assemble.js'), import('../server/command-logger.js'), import('../meta/from-config.js'), import('../meta/listing-sync.js'),
  ]);
  const options = metaOptionsFromConfig(config);
  if ('sqlite' in options && options.sqlite.path === ':memory:') {
    process.stderr.write('berth index: the metadata database is in memory for this storage (set meta.sqlite.path or meta.postgres.url); nothing to ' + action + '\n');
    process.exitCode = 2;
    return;
  }
  const log = commandLogger({ progress: true });
  const assembly = await assemble(config, { logger: log });
  try {
    const { meta, listing } = assembly;
    if (!meta || !listing) throw new Error('the listing index needs the metadata database');
    const { database: index, walk } = listing;
    if (action === 'rebuild') {
      const { repositories, ms } = await sync.rebuildListing(meta, index, walk, log);
      process.stdout.write(`listing index rebuilt from storage: ${repositories} ${repositories === 1 ? 'repository' : 'repositories'} in ${(ms / 1000).toFixed(1)} s\n`);
      return;
    }
    const drift = await sync.verifyListing(index, walk);
    for (const line of drift) process.stdout.write(`${line}\n`);
    process.stdout.write(drift.length === 0 ? 'listing index matches storage\n' : `${drift.length} difference${drift.length === 1 ? '' : 's'} between the listing index and storage; \`berth index rebuild\` repairs them\n`);
    if (drift.length > 0) process.exitCode = 1;
  } finally {
    await assembly.close();
  }
}
