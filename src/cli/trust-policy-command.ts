// `berth trust policy put FILE|list|rm NAME [--config FILE]`: the trust policies the admin API
// manages (/api/v1/trust/policies), from the command line, in the API's shape (config.yml's, with
// keys and certificates as PEM text; a YAML or JSON file holding one policy or a list). Checked by
// the same rules, refusals naming the key; each change audited as the API's are, by
// `cli:<login>`. A running server sees a change at its next manifest read (the table's stamp).
import type { Command } from 'commander';
import { cliAudit as audit, entriesOf, printResult as print, runReporting as run } from './stored-objects.js';
import { loadConfig } from '../config/load.js';
import { openMeta } from '../server/open-meta.js';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { TrustCatalog, TrustPolicyView } from '../trust/catalog.js';

interface Flags {
  config?: string;
  json?: boolean;
}

async function withCatalog<T>(flags: Flags, fn: (catalog: TrustCatalog, db: Kysely<MetaTables>) => Promise<T>): Promise<T> {
  const { config } = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  if (!config.auth) throw new Error('stored trust policies are in force only where auth is configured (they are the admin API\'s); this configuration has no auth section');
  const { TrustCatalog } = await import('../trust/catalog.js');
  const { TrustPolicies } = await import('../trust/policies.js');
  const meta = await openMeta(config);
  try {
    const catalog = new TrustCatalog({
      db: meta.db, base: new TrustPolicies(config.trust.policies, config.trust.notation),
      verifies: config.proxy.upstreams.flatMap((u) => (u.verify !== undefined ? [{ upstream: u.name, policy: u.verify }] : [])),
      changed: () => {}, warn: (m, d) => process.stderr.write(`berth: ${m} ${JSON.stringify(d ?? {})}\n`),
    });
    return await fn(catalog, meta.db);
  } finally {
    await meta.close();
  }
}


export function registerTrustPolicyCommand(program: Command): void {
  const trust = program.command('trust').description('content trust: policies kept in the metadata database');
  const policy = trust.command('policy').description('trust policies (config.yml\'s shown, stored ones added and removed)');
  const common = (c: Command) => c.option('-c, --config <file>', 'the registry\'s config.yml').option('--json', 'print JSON');

  common(policy.command('put').argument('<file>', 'YAML or JSON: one policy or a list, keys and certificates as PEM text (- for standard input)')
    .description('add or replace policies, checked as config.yml\'s are')).action(async (file: string, flags: Flags) => run(async () => {
    const list = entriesOf(file, 'policy', 'the admin API\'s trust policy');
    await withCatalog(flags, async (catalog, db) => {
      const views: TrustPolicyView[] = [];
      for (const p of list) {
        const view = await catalog.put(p);
        const b = view.body!;
        await audit(db, 'trust.policy.set', view.name, { mode: b.mode, repositories: b.repositories, exempt: b.exempt, satisfiedBy: view.satisfiedBy });
        views.push(view);
      }
      print(flags, views, () => views.map((v) => `trust policy ${v.name} stored\n`).join(''));
    });
  }));
  common(policy.command('rm').argument('<name>').description('remove a stored policy')).action(async (name: string, flags: Flags) => run(async () => {
    await withCatalog(flags, async (catalog, db) => {
      await catalog.delete(name);
      await audit(db, 'trust.policy.rm', name);
      print(flags, { removed: name }, () => `trust policy ${name} removed\n`);
    });
  }));
  common(policy.command('list').description('every policy, config.yml\'s and the stored ones')).action(async (flags: Flags) => run(async () => {
    await withCatalog(flags, async (catalog) => {
      const views = await catalog.views();
      print(flags, views, () => views.map((p) => `${p.name}  ${p.mode}  ${p.repositories.join(',') || '-'}${p.upstreams.length ? `  verify: ${p.upstreams.join(',')}` : ''}  (${p.origin})\n`).join('') || 'no trust policies\n');
    });
  }));
}
