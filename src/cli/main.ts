// The `berth` command line.
import { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { printCommand, schemaCommand, verifyCommand } from './config-command.js';

type Guard = (run: () => Promise<void>) => Promise<void>;
type Register = (program: Command, guard: Guard) => void;

// Each command group is imported only when its command runs (or for --help), so that
// `berth config verify` does not load the S3 SDK, the OCI client and the metadata engines.
const COMMAND_GROUPS: { commands: string[]; load: () => Promise<Register> }[] = [
  { commands: ['gc'], load: async () => (await import('./gc-command.js')).registerGcCommand },
  { commands: ['retention'], load: async () => (await import('./retention-command.js')).registerRetentionCommand },
  { commands: ['copy', 'save', 'load', 'login'], load: async () => (await import('./copy-command.js')).registerCopyCommands },
  { commands: ['user', 'project', 'robot', 'audit'], load: async () => (await import('./auth-commands.js')).registerAuthCommands },
  { commands: ['token'], load: async () => (await import('./token-command.js')).registerTokenCommand },
  { commands: ['sync'], load: async () => (await import('./sync-command.js')).registerSyncCommand },
  { commands: ['configure'], load: async () => (await import('./configure-command.js')).registerConfigureCommand },
  { commands: ['doctor'], load: async () => (await import('./doctor-command.js')).registerDoctorCommand },
  { commands: ['index'], load: async () => (await import('./index-command.js')).registerIndexCommand },
  { commands: ['usage'], load: async () => (await import('./usage-command.js')).registerUsageCommand },
  { commands: ['tag'], load: async () => (await import('./tag-command.js')).registerTagCommand },
  { commands: ['proxy'], load: async () => (await import('./proxy-command.js')).registerProxyCommands },
  { commands: ['replication'], load: async () => (await import('./replication-command.js')).registerReplicationCommand },
  { commands: ['sign', 'verify'], load: async () => (await import('./trust-command.js')).registerTrustCommands },
  { commands: ['trust'], load: async () => (await import('./trust-policy-command.js')).registerTrustPolicyCommand },
];

/** The groups the command line needs: the one it names, or all of them (help, unknown command). */
function groupsFor(argv: string[]) {
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  const named = COMMAND_GROUPS.filter((g) => first !== undefined && g.commands.includes(first));
  const builtin = ['serve', 'config', 'events', 'help'];
  if (named.length > 0) return named;
  return first !== undefined && builtin.includes(first) ? [] : COMMAND_GROUPS;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('berth')
    .description('An OCI container image registry, compatible with CNCF Distribution')
    .version('0.1.0');
  program.command('serve')
    .description('run the registry (filesystem storage in ./data on :5000 when no config is given)')
    .argument('[config]', 'a Distribution-style config.yml')
    .option('-c, --config <file>', 'a Distribution-style config.yml')
    .action(async (positional: string | undefined, opts: { config?: string }) => {
      // Loaded on demand, so that config commands do not pay for the HTTP stack.
      const { serveCommand } = await import('./serve.js');
      await guardConfig(() => serveCommand(opts.config ?? positional));
    });
  const config = program.command('config').description('check and inspect configuration');
  config.command('verify').argument('<file>').description('check a config file without starting anything')
    .action((file: string) => {
      process.exitCode = verifyCommand(file);
    });
  config.command('print').argument('[file]').description('print the effective configuration (defaults, file, environment)')
    .action(async (file: string | undefined) => guardConfig(async () => printCommand(file)));
  config.command('schema').description('print the configuration JSON Schema').action(() => schemaCommand());
  program.command('events').description('notification queues')
    .command('deadletters').argument('[config]', 'a Distribution-style config.yml')
    .description('list the notifications that ran out of attempts')
    .option('--endpoint <name>', 'only this endpoint').option('--json', 'as JSON').option('--requeue', 'put them back in their queues')
    .action(async (file: string | undefined, opts: { endpoint?: string; json?: boolean; requeue?: boolean }) => {
      const { deadLettersCommand } = await import('./events-command.js');
      await guardConfig(() => deadLettersCommand(file, opts));
    });
  for (const group of groupsFor(argv)) (await group.load())(program, guardConfig);
  await program.parseAsync(argv);
}

async function guardConfig(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
