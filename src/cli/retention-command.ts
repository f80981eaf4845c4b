// `berth retention`: evaluates the per-project retention policies (gc.retention.projects) now,
// deleting the tags they no longer want, or with --dry-run only reporting each decision.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';

interface RetentionFlags {
  config?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerRetentionCommand(program: Command, guard: (run: () => Promise<void>) => Promise<void>): void {
  program.command('retention')
    .description('apply the per-project tag retention policies (gc.retention.projects) now')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .option('--dry-run', 'only report what would be deleted and why')
    .option('--json', 'print the report as JSON')
    .action(async (flags: RetentionFlags) => guard(() => retentionCommand(flags)));
}

export async function retentionCommand(flags: RetentionFlags): Promise<void> {
  const { config, warnings } = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  const [{ assemble }, { commandLogger }, { compilePolicies }, { applyRetention }, { auditRetentionDeletion }, { InventoryBook }] = await Promise.all([
    import('../server/assemble.js'), import('../server/command-logger.js'), import('../policy/policies.js'), import('../policy/retention.js'),
    import('../policy/retention-audit.js'), import('../inventory/book.js'),
  ]);
  const policies = compilePolicies(config.gc.retention.projects);
  if (policies.size === 0) process.stderr.write('berth retention: no project has a policy (gc.retention.projects)\n');
  // Its untags reach the listing index that `berth serve` answers from; deletions go to the audit
  // log of the metadata database `berth serve` keeps, when it keeps one.
  const assembly = await assemble(config, { logger: commandLogger() });
  const onDeleted = assembly.meta ? auditRetentionDeletion(assembly.meta.db) : undefined;
  // Pull times as `berth serve` recorded them (those of its last seconds may still be in its memory).
  const book = assembly.meta && assembly.listing ? new InventoryBook(assembly.meta.db) : undefined;
  const pullTimes = book && ((r: string, d: string[]) => book.lastPulled(r, d));
  const report = await applyRetention(assembly.core, policies, {
    dryRun: flags.dryRun ?? config.gc.retention.dryrun, ...(onDeleted ? { onDeleted } : {}), ...(pullTimes ? { pullTimes } : {}),
  })
    .finally(() => assembly.close());
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const verb = report.dryRun ? 'would delete' : 'delete';
  for (const d of report.decisions) {
    process.stdout.write(`${d.action === 'delete' ? verb : 'keep'} ${d.repository}:${d.tag} (${d.digest}, pushed ${d.pushedAt}): ${d.reason} [${d.policy}]\n`);
  }
  const toDelete = report.decisions.filter((d) => d.action === 'delete').length;
  process.stdout.write(report.dryRun
    ? `${report.decisions.length} tags evaluated, ${toDelete} would be deleted (dry run)\n`
    : `${report.decisions.length} tags evaluated, ${report.deleted} deleted; run \`berth gc --delete-untagged\` to reclaim their space\n`);
}
