// `berth proxy evict`: enforces the pull-through cache's limits (maxsize, maxage per upstream)
// once, as the `proxy.eviction.interval` schedule of `berth serve` does. Eviction unlinks; the
// space comes back at the next `berth gc`.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { EvictionReport } from '../proxy/eviction.js';

interface EvictFlags {
  config?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerProxyCommands(program: Command, guard: (run: () => Promise<void>) => Promise<void>): void {
  const proxy = program.command('proxy').description('pull-through cache maintenance');
  proxy.command('evict')
    .description('evict cached images above each upstream\'s maxsize or older than its maxage (space returns at the next gc)')
    .argument('[config]', 'a Distribution-style config.yml')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .option('--dry-run', 'only print what would be evicted')
    .option('--json', 'print the report as JSON')
    .action(async (positional: string | undefined, flags: EvictFlags) => guard(() => evictCommand({ ...flags, config: flags.config ?? positional })));
}

async function evictCommand(flags: EvictFlags): Promise<void> {
  const { config, warnings } = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  const [{ cacheLimitsFrom }, { evictProxyCache }, { assemble }, { commandLogger }] = await Promise.all([
    import('../proxy/cache-limits.js'), import('../proxy/eviction.js'), import('../server/assemble.js'), import('../server/command-logger.js'),
  ]);
  let limits;
  try {
    limits = cacheLimitsFrom(config.proxy);
  } catch (err) {
    process.stderr.write(`berth proxy evict: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (limits.length === 0) {
    process.stderr.write('berth proxy evict: no upstream in proxy.upstreams has a maxsize or maxage; nothing to enforce\n');
    return;
  }
  // The core with its listing index: evicted tags leave the tag lists `berth serve` answers from.
  const assembly = await assemble(config, { logger: commandLogger() });
  try {
    if (!assembly.meta) throw new Error('the pull-through cache keeps its bookkeeping in the metadata database, and none is configured');
    const report = await evictProxyCache(assembly.core, assembly.meta.db, limits, { dryRun: flags.dryRun ?? false });
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatEviction(report));
    if (report.upstreams.some((u) => u.failed.length > 0)) process.exitCode = 1;
  } finally {
    await assembly.close();
  }
}

export function formatEviction(report: EvictionReport): string {
  const lines: string[] = [];
  const verb = report.dryRun ? 'would evict' : 'evicted';
  for (const u of report.upstreams) {
    lines.push(`${u.upstream}: ${u.bytesBefore} bytes cached, ${verb} ${u.evicted.length} image(s), ${u.bytesAfter} bytes left`
      + ` (maxsize ${u.maxBytes || 'none'}, maxage ${u.maxAgeMs ? `${u.maxAgeMs / 1000}s` : 'none'})`);
    for (const e of u.evicted) lines.push(`  ${verb} ${e.repository}@${e.root} (${e.reason}, ${e.freedBytes} bytes)`);
    for (const s of u.skipped) lines.push(`  kept ${s.repository}@${s.root}: pulled while evicting`);
    for (const f of u.failed) lines.push(`  could not evict ${f.repository}@${f.root}: ${f.error}`);
  }
  if (!report.dryRun && report.upstreams.some((u) => u.evicted.length > 0)) lines.push('space is reclaimed by the next garbage collection (berth gc)');
  return `${lines.join('\n')}\n`;
}
