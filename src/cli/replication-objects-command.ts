// `berth replication endpoint|policy put|rm|list`: the endpoints and policies the admin API
// manages (/api/v1/replication), from the command line, in the shape of config.yml's
// `replication.endpoints` and `replication.policies` entries (a YAML or JSON file holding one
// entry or a list). Checked by the same rules as the configuration, refusals naming the key;
// a `passwordfile` is read here and its password stored sealed, as the API stores one. Each
// change is audited as the API's are, by `cli:<login>`. A running server sees a change at its
// next push (policies: the table's stamp) or at the next job (endpoints).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { cliAudit as audit, entriesOf } from './stored-objects.js';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { EndpointView, PolicyCatalog, PolicyView } from '../replication/catalog.js';

interface Flags {
  config?: string;
  json?: boolean;
}

export type WithCatalog = <T>(flags: Flags, fn: (catalog: PolicyCatalog, db: Kysely<MetaTables>) => Promise<T>) => Promise<T>;
type Print = (flags: Flags, value: unknown, text: () => string) => void;
type Run = (fn: () => Promise<void>) => Promise<void>;

/** An endpoint as the CLI takes it: `passwordfile` read here, since the server may not see the file. */
function withPasswordRead(e: Record<string, unknown>): Record<string, unknown> {
  if (typeof e.passwordfile !== 'string') return e;
  if (e.password !== undefined) throw new Error(`endpoint ${String(e.name)}: password and passwordfile: give one`);
  const { passwordfile, ...rest } = e;
  return { ...rest, password: readFileSync(passwordfile, 'utf8').replace(/\r?\n$/, '') };
}

export function registerReplicationObjects(parent: Command, tools: { withCatalog: WithCatalog; print: Print; run: Run; common: (c: Command) => Command }): void {
  const { withCatalog, print, run, common } = tools;

  const endpoint = parent.command('endpoint').description('endpoints (other registries) kept in the metadata database');
  common(endpoint.command('put').argument('<file>', 'YAML or JSON: one endpoint or a list, as in config.yml (- for standard input)')
    .description('add or replace endpoints; passwords are stored encrypted')).action(async (file: string, flags: Flags) => run(async () => {
    const list = entriesOf(file, 'endpoint', 'a config.yml replication entry');
    await withCatalog(flags, async (catalog, db) => {
      const views: EndpointView[] = [];
      for (const e of list) {
        const view = await catalog.putEndpoint(withPasswordRead(e));
        await audit(db, 'replication.endpoint.set', view.name, { url: view.url, username: view.username, hasPassword: view.hasPassword });
        views.push(view);
      }
      print(flags, views, () => views.map((v) => `endpoint ${v.name} stored${v.hasPassword ? ' (password encrypted)' : ''}\n`).join(''));
    });
  }));
  common(endpoint.command('rm').argument('<name>').description('remove an endpoint no policy uses')).action(async (name: string, flags: Flags) => run(async () => {
    await withCatalog(flags, async (catalog, db) => {
      await catalog.deleteEndpoint(name);
      await audit(db, 'replication.endpoint.rm', name);
      print(flags, { removed: name }, () => `endpoint ${name} removed\n`);
    });
  }));
  common(endpoint.command('list').description('every endpoint, config.yml\'s and the stored ones (never a password)')).action(async (flags: Flags) => run(async () => {
    await withCatalog(flags, async (catalog) => {
      const views = await catalog.endpointViews();
      print(flags, views, () => views.map((e) => `${e.name}  ${e.url}${e.username ? `  as ${e.username}` : ''}${e.hasPassword ? '  (password set)' : ''}  (${e.origin})\n`).join('') || 'no endpoints\n');
    });
  }));

  common(parent.command('rekey').description('seal every stored endpoint password under replication.key (a rotation: the old key in replication.previouskey until this ran)'))
    .action(async (flags: Flags) => run(async () => {
      await withCatalog(flags, async (catalog, db) => {
        const done = await catalog.rekey();
        await audit(db, 'replication.rekey', 'endpoints', done);
        print(flags, done, () => `${done.endpoints} endpoint password(s) sealed under the current key (${done.fromPrevious} were under the previous key)\n`);
      });
    }));

  const policy = parent.command('policy').description('policies kept in the metadata database');
  common(policy.command('put').argument('<file>', 'YAML or JSON: one policy or a list, as in config.yml (- for standard input)')
    .description('add or replace policies, checked as config.yml\'s are')).action(async (file: string, flags: Flags) => run(async () => {
    const list = entriesOf(file, 'policy', 'a config.yml replication entry');
    await withCatalog(flags, async (catalog, db) => {
      const views: PolicyView[] = [];
      for (const p of list) {
        const view = await catalog.putPolicy(p);
        await audit(db, 'replication.policy.set', view.name, { ...view });
        views.push(view);
      }
      print(flags, views, () => views.map((v) => `policy ${v.name} stored\n`).join(''));
    });
  }));
  common(policy.command('rm').argument('<name>').description('remove a policy (its finished jobs stay in the history)')).action(async (name: string, flags: Flags) => run(async () => {
    await withCatalog(flags, async (catalog, db) => {
      await catalog.deletePolicy(name);
      await audit(db, 'replication.policy.rm', name);
      print(flags, { removed: name }, () => `policy ${name} removed\n`);
    });
  }));
  common(policy.command('list').description('every policy, config.yml\'s and the stored ones')).action(async (flags: Flags) => run(async () => {
    await withCatalog(flags, async (catalog) => {
      const views = await catalog.policyViews();
      print(flags, views, () => views.map((p) => `${p.name}  ${p.direction} ${p.direction === 'push' ? 'to' : 'from'} ${p.endpoint}  ${p.repositories.join(',')}  (${p.origin})\n`).join('') || 'no policies\n');
    });
  }));
}
