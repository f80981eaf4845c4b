// `berth user|project|robot|audit`: manage access control in the metadata database of a given
// configuration, with or without a running server. Secrets are read from stdin or generated and
// printed once; every change is written to the audit log as done by `cli:<login>`.
// The database and hashing modules load only when one of these commands runs, so that the
// other commands start as fast as before.
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { loadConfig } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import type { AccessStore, RobotPermission } from '../auth/access-store.js';
import { isRole } from '../auth/roles.js';
import { isCidr } from '../config/sections/auth.js';

const generateSecret = async () => (await import('../auth/passwords.js')).generateSecret();

interface Common { config?: string }
type Change = { action: string; target: string; detail?: Record<string, unknown> } | undefined;

export function registerAuthCommands(program: Command): void {
  const user = program.command('user').description('registry users (metadata database)');
  withConfig(user.command('add').argument('<name>').option('--admin', 'a system administrator').option('--password-stdin', 'read the password from stdin (else one is generated and printed)'))
    .action(run(async (store, name: string, opts: { admin?: boolean; passwordStdin?: boolean }) => {
      const password = opts.passwordStdin ? await readStdin() : await generateSecret();
      await store.addUser(name, password, opts.admin === true);
      if (!opts.passwordStdin) process.stdout.write(`${password}\n`);
      return { action: 'user.add', target: name, detail: { admin: opts.admin === true } };
    }));
  withConfig(user.command('passwd').argument('<name>').option('--password-stdin', 'read the password from stdin (else one is generated and printed)'))
    .action(run(async (store, name: string, opts: { passwordStdin?: boolean }) => {
      const password = opts.passwordStdin ? await readStdin() : await generateSecret();
      await store.setPassword(name, password);
      if (!opts.passwordStdin) process.stdout.write(`${password}\n`);
      return { action: 'user.passwd', target: name };
    }));
  withConfig(user.command('rm').argument('<name>')).action(run(async (store, name: string) => {
    await store.removeUser(name);
    return { action: 'user.rm', target: name };
  }));
  withConfig(user.command('ls')).action(run(async (store) => {
    for (const u of await store.users()) process.stdout.write(`${u.name}${u.admin ? ' (admin)' : ''}\n`);
    return undefined;
  }));

  const project = program.command('project').description('projects: the first component of repository names');
  withConfig(project.command('add').argument('<name>').option('--public', 'anyone may pull').option('--allow-from <cidr...>', 'only these addresses may reach it'))
    .action(run(async (store, name: string, opts: { public?: boolean; allowFrom?: string[] }) => {
      const allowFrom = checkCidrs(opts.allowFrom ?? []);
      await store.addProject(name, { public: opts.public === true, allowFrom });
      return { action: 'project.add', target: name, detail: { public: opts.public === true, allowFrom } };
    }));
  withConfig(project.command('set-public').argument('<name>').argument('<public>', 'true or false'))
    .action(run(async (store, name: string, value: string) => {
      if (value !== 'true' && value !== 'false') throw new Error('set-public takes true or false');
      await store.setProject(name, { public: value === 'true' });
      return { action: 'project.set', target: name, detail: { public: value === 'true' } };
    }));
  withConfig(project.command('allow-from').argument('<name>').argument('[cidr...]', 'none: everyone'))
    .action(run(async (store, name: string, list: string[]) => {
      const allowFrom = checkCidrs(list);
      await store.setProject(name, { allowFrom });
      return { action: 'project.set', target: name, detail: { allowFrom } };
    }));
  withConfig(project.command('member').argument('<project>').argument('<user>').argument('<role>', 'guest, developer, maintainer, admin or none'))
    .action(run(async (store, name: string, member: string, role: string) => {
      if (role !== 'none' && !isRole(role)) throw new Error('role must be guest, developer, maintainer, admin or none');
      await store.setMember(name, member, role === 'none' ? null : role);
      return { action: 'project.member', target: `${name}/${member}`, detail: { role: role === 'none' ? null : role } };
    }));
  withConfig(project.command('ls')).action(run(async (store) => {
    for (const p of await store.projects()) {
      const members = (await store.members(p.name)).map((m) => `${m.user}:${m.role}`).join(' ');
      process.stdout.write(`${p.name}\t${p.public ? 'public' : 'private'}\t${members}\n`);
    }
    return undefined;
  }));

  const robot = program.command('robot').description('robot accounts with scoped, expiring secrets');
  withConfig(robot.command('add').argument('<name>')
    .requiredOption('--project <project:actions...>', 'e.g. team:pull,push (repeatable)')
    .option('--expires <duration>', 'lifetime, e.g. 720h (default: no expiry)'))
    .action(run(async (store, name: string, opts: { project: string[]; expires?: string }) => {
      const permissions: RobotPermission[] = opts.project.map((p) => {
        const [project = '', actions = 'pull'] = p.split(':');
        return { project, actions: actions.split(',').filter(Boolean) };
      });
      const expiresAt = opts.expires ? new Date(Date.now() + parseDuration(opts.expires)) : null;
      const secret = await generateSecret();
      const created = await store.addRobot(name, secret, permissions, expiresAt);
      process.stdout.write(`${created.name}\n${secret}\n`);
      return { action: 'robot.add', target: created.name, detail: { permissions, expiresAt: created.expiresAt } };
    }));
  withConfig(robot.command('rm').argument('<name>')).action(run(async (store, name: string) => {
    await store.removeRobot(name);
    return { action: 'robot.rm', target: name };
  }));

  withConfig(program.command('audit').description('print the audit log, newest first')
    .option('--limit <n>', 'entries', '50').option('--actor <name>').option('--action <action>').option('--json', 'one JSON object per line'))
    .action(run(async (store, opts: { limit: string; actor?: string; action?: string; json?: boolean }) => {
      const { readAudit } = await import('../auth/audit.js');
      const entries = await readAudit(store.db, { limit: Number(opts.limit), ...(opts.actor ? { actor: opts.actor } : {}), ...(opts.action ? { action: opts.action } : {}) });
      for (const e of entries) {
        process.stdout.write(opts.json ? `${JSON.stringify(e)}\n` : `${e.at}\t${e.actor}\t${e.address}\t${e.action}\t${e.target}\t${JSON.stringify(e.detail)}\n`);
      }
      return undefined;
    }));
}

function withConfig(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'the registry\'s config.yml (its metadata database is used)');
}

/** Wraps an action: opens the metadata database of the configuration, runs, audits, closes. */
function run<A extends unknown[]>(action: (store: AccessStore, ...args: A) => Promise<Change>) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.opts<Common>();
    const { config } = loadConfig({ ...(opts.config ? { file: opts.config } : {}), env: process.env });
    const { openMeta } = await import('../server/open-meta.js');
    const { AccessStore } = await import('../auth/access-store.js');
    const { appendAudit } = await import('../auth/audit.js');
    const meta = await openMeta(config);
    try {
      const store = new AccessStore(meta.db);
      const positional = args.slice(0, -2);
      const change = await action(store, ...([...positional, opts] as unknown as A));
      if (change) await appendAudit(meta.db, { actor: `cli:${userInfo().username}`, address: 'local', ...change });
    } catch (err) {
      process.stderr.write(`berth: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      await meta.close();
    }
  };
}

function checkCidrs(list: string[]): string[] {
  const bad = list.filter((c) => !isCidr(c));
  if (bad.length > 0) throw new Error(`not an address or CIDR: ${bad.join(', ')}`);
  return list;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
