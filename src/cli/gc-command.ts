// `berth gc`: one online garbage collection over the configured storage. Safe while `berth
// serve` runs on the same storage (src/gc/sweep.ts); a second collector is refused by the lock.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';

interface GcFlags {
  config?: string;
  dryRun?: boolean;
  deleteUntagged?: boolean;
  grace?: string;
  json?: boolean;
  reconcile?: boolean;
}

export function registerGcCommand(program: Command, guard: (run: () => Promise<void>) => Promise<void>): void {
  program.command('gc')
    .description('delete blobs and (with --delete-untagged) manifests nothing references; safe while the registry serves')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .option('--dry-run', 'only print what would be deleted')
    .option('-m, --delete-untagged', 'also delete manifests no tag, index or referrer chain needs')
    .option('--grace <duration>', 'never touch content younger than this (default gc.grace, 1h; with --reconcile gc.reconcile.grace, 168h)')
    .option('--reconcile', 'walk storage against the metadata database: remove what it has not known for the grace, report its rows whose storage is gone')
    .option('--json', 'print the report as JSON')
    .action(async (flags: GcFlags) => guard(() => gcCommand(flags)));
}

export async function gcCommand(flags: GcFlags): Promise<void> {
  const { config, warnings } = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  let graceMs: number;
  try {
    graceMs = flags.grace !== undefined ? parseDuration(flags.grace) : flags.reconcile ? config.gc.reconcile.grace : config.gc.grace;
  } catch (err) {
    process.stderr.write(`berth gc: --grace: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (flags.reconcile) return reconcileCommand(config, graceMs, flags);
  // Loaded on demand, so that other commands do not pay for the collector.
  const [{ assemble }, { commandLogger }, { collectGarbage }, { LockHeldError }, { formatReport }, { afterGcRun }] = await Promise.all([
    import('../server/assemble.js'), import('../server/command-logger.js'), import('../gc/collector.js'),
    import('../gc/lock.js'), import('../gc/report.js'), import('../gc/after-run.js'),
  ]);
  // Its deletions reach the listing index that `berth serve` answers from.
  const assembly = await assemble(config, { logger: commandLogger() });
  try {
    const report = await collectGarbage(assembly.core, {
      dryRun: flags.dryRun ?? config.gc.dryrun,
      deleteUntagged: flags.deleteUntagged ?? config.gc.deleteuntagged,
      graceMs,
    });
    // The inventory follows the deletes and the run is recorded for the read API; the deletes stand if this fails.
    if (assembly.meta) await afterGcRun(assembly.meta.db, report, 'cli').catch((err: unknown) => process.stderr.write(`berth gc: run not recorded: ${(err as Error).message}\n`));
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  } catch (err) {
    if (!(err instanceof LockHeldError)) throw err;
    process.stderr.write(`berth gc: ${err.message}\n`);
    process.exitCode = 1;
  } finally {
    await assembly.close();
  }
}

async function reconcileCommand(config: Config, graceMs: number, flags: GcFlags): Promise<void> {
  const [{ withIndexedAssembly }, { reconcile }, { LockHeldError }, { formatReconcileReport }] = await Promise.all([
    import('./indexed-assembly.js'), import('../gc/reconcile.js'), import('../gc/lock.js'), import('../gc/reconcile-report.js'),
  ]);
  await withIndexedAssembly(config, 'berth gc --reconcile: needs the metadata database and its listing index (meta.index.enabled)', async (assembly) => {
    try {
      const report = await reconcile(assembly.meta, assembly.core, { graceMs, dryRun: flags.dryRun ?? false });
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReconcileReport(report));
      // Rows without storage need an operator: a non-zero status lets a cron job say so.
      if (report.missing.manifests.length + report.missing.blobs.length > 0) process.exitCode = 1;
    } catch (err) {
      if (!(err instanceof LockHeldError)) throw err;
      process.stderr.write(`berth gc --reconcile: ${err.message}\n`);
      process.exitCode = 1;
    }
  });
}
