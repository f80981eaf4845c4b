// `berth replication list|run|history|retry [--config FILE]`: replication's policies and jobs,
// (`endpoint` and `policy` put|rm|list: replication-objects-command.ts),
// read and queued in the metadata database the configuration names, so they work beside a
// running server (whose workers pick up what `run` and `retry` queue) or on their own.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { openMeta } from '../server/open-meta.js';
import { PolicyCatalog } from '../replication/catalog.js';
import { JobStore, type Job } from '../replication/job-store.js';
import { sealingKey } from '../replication/sealing.js';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { registerReplicationObjects } from './replication-objects-command.js';
import { printResult as print, runReporting as run } from './stored-objects.js';

interface Flags {
  config?: string;
  json?: boolean;
}

async function withCatalog<T>(flags: Flags, fn: (catalog: PolicyCatalog, db: Kysely<MetaTables>) => Promise<T>): Promise<T> {
  const { config } = loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  const meta = await openMeta(config);
  try {
    return await fn(new PolicyCatalog(meta.db, config.replication, sealingKey(config.replication)), meta.db);
  } finally {
    await meta.close();
  }
}

function withReplication<T>(flags: Flags, fn: (catalog: PolicyCatalog, store: JobStore) => Promise<T>): Promise<T> {
  return withCatalog(flags, (catalog, db) => fn(catalog, new JobStore(db)));
}

const counts = (j: Job) => `images=${j.images} bytes=${j.bytes} skipped=${j.skipped} failed=${j.failed}`;

function jobLine(j: Job): string {
  const what = j.kind === 'run' ? 'full run' : `${j.repository}:${j.reference}`;
  return `${j.createdAt.toISOString()}  ${j.id}  ${j.policy}  ${j.state.padEnd(7)}  ${j.trigger.padEnd(8)}  ${what}  attempts=${j.attempts}  ${counts(j)}${j.lastError ? `  error: ${j.lastError}` : ''}\n`;
}

export function registerReplicationCommand(program: Command): void {
  const cmd = program.command('replication').description('replication policies and their jobs');
  const common = (c: Command) => c.option('-c, --config <file>', 'the registry\'s config.yml').option('--json', 'print JSON');

  registerReplicationObjects(cmd, { withCatalog, print, run, common });

  common(cmd.command('list').description('policies, their endpoints and their jobs per state')).action(async (flags: Flags) => run(async () => {
    await withReplication(flags, async (catalog, store) => {
      const summary = await store.summary();
      const policies = (await catalog.policyViews()).map((p) => ({
        ...p, jobs: Object.fromEntries(summary.filter((s) => s.policy === p.name).map((s) => [s.state, s.count])),
      }));
      const endpoints = await catalog.endpointViews();
      print(flags, { policies, endpoints }, () => [
        ...policies.map((p) => `${p.name}  ${p.direction} ${p.direction === 'push' ? 'to' : 'from'} ${p.endpoint}  ${p.repositories.join(',')}${p.tags ? ` tags ${p.tags}` : ''}`
          + `  ${[p.trigger.event ? 'on events' : '', p.trigger.schedule ? `schedule "${p.trigger.schedule}"` : ''].filter(Boolean).join(', ')}`
          + `  jobs: ${Object.entries(p.jobs).map(([s, n]) => `${s}=${n}`).join(' ') || 'none'}  (${p.origin})\n`),
        ...endpoints.map((e) => `endpoint ${e.name}  ${e.url}${e.username ? `  as ${e.username}` : ''}  (${e.origin})\n`),
      ].join('') || 'no replication policies\n');
    });
  }));

  common(cmd.command('run').argument('<policy>').description('queue a full run of a policy now (the server runs it)'))
    .option('--wait', 'wait until the run is finished or parked, and exit 1 unless it succeeded')
    .action(async (name: string, flags: Flags & { wait?: boolean }) => run(async () => {
      await withReplication(flags, async (catalog, store) => {
        if (!(await catalog.policy(name))) throw new Error(`no replication policy named ${name}`);
        const id = `run-${name}-manual-${Date.now()}`;
        if (!(await store.enqueue({ policy: name, kind: 'run', trigger: 'manual', id }))) {
          print(flags, { queued: false }, () => `a run of ${name} is already queued\n`);
          return;
        }
        if (!flags.wait) {
          print(flags, { queued: true, id }, () => `queued ${id}\n`);
          return;
        }
        for (;;) {
          const job = await store.get(id);
          if (job && (job.state === 'done' || job.state === 'parked')) {
            print(flags, job, () => jobLine(job));
            if (job.state !== 'done' || job.failed > 0) process.exitCode = 1;
            return;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      });
    }));

  common(cmd.command('history').argument('[policy]').description('the last jobs, newest first (of one policy, or all)'))
    .option('-n, --limit <n>', 'how many', '20').option('--parked', 'only parked jobs')
    .action(async (name: string | undefined, flags: Flags & { limit: string; parked?: boolean }) => run(async () => {
      await withReplication(flags, async (_catalog, store) => {
        const jobs = await store.history({ ...(name ? { policy: name } : {}), limit: Number(flags.limit) || 20, ...(flags.parked ? { state: 'parked' as const } : {}) });
        print(flags, jobs, () => jobs.map(jobLine).join('') || 'no jobs\n');
      });
    }));

  common(cmd.command('retry').argument('[job]').description('queue parked jobs again: one by id, or all of --policy (or all)'))
    .option('--policy <name>', 'every parked job of this policy')
    .action(async (id: string | undefined, flags: Flags & { policy?: string }) => run(async () => {
      await withReplication(flags, async (_catalog, store) => {
        const n = await store.retry({ ...(id ? { id } : {}), ...(flags.policy ? { policy: flags.policy } : {}) });
        print(flags, { retried: n }, () => `${n} job(s) queued again\n`);
      });
    }));
}
