// `berth gc`: one online garbage collection over the configured storage. Safe while `berth
// serve` runs on the same storage (src/gc/sweep.ts); a second collector is refused by the lock.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { parseDuration } from '../config/duration.js';

interface GcFlags {
  config?: string;
  dryRun?: boolean;
  deleteUntagged?: boolean;
  grace?: string;
  json?: boolean;
}

export function registerGcCommand(program: Command, guard: (run: () => Promise<void>) => Promise<void>): void {
  program.command('gc')
    .description('delete blobs and (with --delete-untagged) manifests nothing references; safe while the registry serves')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .option('--dry-run', 'only print what would be deleted')
    .option('-m, --delete-untagged', 'also delete manifests no tag, index or referrer chain needs')
    .option('--grace <duration>', 'never touch content younger than this (default gc.grace, 1h)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: GcFlags) => guard(() => gcCommand(flags)));
}

export async function gcCommand(flags: GcFlags): Promise<void> {
  const { config, warnings } = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  let graceMs: number;
  try {
    graceMs = flags.grace !== undefined ? parseDuration(flags.grace) : config.gc.grace;
  } catch (err) {
    process.stderr.write(`berth gc: --grace: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  // Loaded on demand, so that other commands do not pay for the collector.
  const [{ assemble }, { commandLogger }, { collectGarbage }, { LockHeldError }, { formatReport }] = await Promise.all([
    import('../server/assemble.js'), import('../server/command-logger.js'), import('../gc/collector.js'),
    import('../gc/lock.js'), import('../gc/report.js'),
  ]);
  // Its deletions reach the listing index that `berth serve` answers from.
  const assembly = await assemble(config, { logger: commandLogger() });
  try {
    const report = await collectGarbage(assembly.core, {
      dryRun: flags.dryRun ?? config.gc.dryrun,
      deleteUntagged: flags.deleteUntagged ?? config.gc.deleteuntagged,
      graceMs,
    });
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  } catch (err) {
    if (!(err instanceof LockHeldError)) throw err;
    process.stderr.write(`berth gc: ${err.message}\n`);
    process.exitCode = 1;
  } finally {
    await assembly.close();
  }
}
