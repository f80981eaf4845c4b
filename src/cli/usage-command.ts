// `berth usage`: storage used per project and repository, deduplicated (a blob shared by two
// repositories of a project counts once for the project), with each project's quota; `--verify`
// recounts from storage and exits 1 when the counters differ from it.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';

interface UsageFlags {
  config?: string;
  project?: string;
  json?: boolean;
  verify?: boolean;
}

export function registerUsageCommand(program: Command, guard: (run: () => Promise<void>) => Promise<void>): void {
  program.command('usage')
    .description('storage used per project and repository (deduplicated), with quotas')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .option('-p, --project <name>', 'only this project, with its repositories')
    .option('--json', 'print JSON')
    .option('--verify', 'recount from storage and report any difference (exit 1)')
    .action(async (flags: UsageFlags) => guard(() => usageCommand(flags)));
}

async function usageCommand(flags: UsageFlags): Promise<void> {
  const { config, warnings } = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  const [{ withIndexedAssembly }, { formatBytes }, { QuotaPolicy }, recount] = await Promise.all([
    import('./indexed-assembly.js'), import('../gc/report.js'), import('../policy/quota.js'), import('../meta/usage-recount.js'),
  ]);
  await withIndexedAssembly(config, 'berth usage: usage is kept with the listing index, which is disabled (meta.index.enabled: false)', async ({ usage, listing }) => {
    if (flags.verify) {
      const names = [...new Set([...await listing.walk.namesHolding('_manifests'), ...(await usage.repositories()).map((r) => r.repository)])].sort();
      const counted = { repositories: new Map((await usage.repositories()).map((r) => [r.repository, r.totalBytes])), projects: await usage.projectTotals() };
      const drift = recount.usageDrift(counted, await recount.recountUsage(listing.walk, names));
      for (const line of drift) process.stdout.write(`${line}\n`);
      process.stdout.write(drift.length === 0 ? 'usage matches a recount from storage\n' : `${drift.length} difference(s); \`berth index rebuild\` recounts\n`);
      if (drift.length > 0) process.exitCode = 1;
      return;
    }
    const quota = new QuotaPolicy(config.quota, usage);
    const projects = flags.project !== undefined ? [await usage.project(flags.project)].filter((p) => p !== undefined) : await usage.projects();
    const repositories = flags.project !== undefined ? await usage.repositories(flags.project) : [];
    if (flags.json) {
      const withLimit = projects.map((p) => ({ ...p, quotaBytes: quota.limitOf(p.project) }));
      process.stdout.write(`${JSON.stringify(flags.project !== undefined ? { projects: withLimit, repositories } : { projects: withLimit }, null, 2)}\n`);
      return;
    }
    if (projects.length === 0) process.stdout.write(flags.project !== undefined ? `project ${flags.project} holds nothing\n` : 'no project holds anything\n');
    for (const p of projects) {
      const limit = quota.limitOf(p.project);
      process.stdout.write(`${p.project}\t${formatBytes(p.totalBytes)}\t(${formatBytes(p.uniqueBytes)} unique, ${formatBytes(p.sharedBytes)} shared with other projects)`
        + `\t${p.repositories} ${p.repositories === 1 ? 'repository' : 'repositories'}${limit > 0 ? `\tquota ${formatBytes(limit)} (${Math.round((p.totalBytes / limit) * 100)}%)` : ''}\n`);
    }
    for (const r of repositories) {
      process.stdout.write(`  ${r.repository}\t${formatBytes(r.totalBytes)}\t(${formatBytes(r.uniqueBytes)} unique, ${formatBytes(r.sharedBytes)} shared)\t${r.manifests} ${r.manifests === 1 ? 'manifest' : 'manifests'}\n`);
    }
  });
}
