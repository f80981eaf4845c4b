// The `berth` command line.
import { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { printCommand, schemaCommand, verifyCommand } from './config-command.js';
import { registerGcCommand } from './gc-command.js';
import { registerRetentionCommand } from './retention-command.js';
import { registerCopyCommands } from './copy-command.js';
import { registerAuthCommands } from './auth-commands.js';
import { registerSyncCommand } from './sync-command.js';
import { registerConfigureCommand } from './configure-command.js';
import { registerDoctorCommand } from './doctor-command.js';

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
  registerGcCommand(program, guardConfig);
  registerRetentionCommand(program, guardConfig);
  registerCopyCommands(program);
  program.command('events').description('notification queues')
    .command('deadletters').argument('[config]', 'a Distribution-style config.yml')
    .description('list the notifications that ran out of attempts')
    .option('--endpoint <name>', 'only this endpoint').option('--json', 'as JSON').option('--requeue', 'put them back in their queues')
    .action(async (file: string | undefined, opts: { endpoint?: string; json?: boolean; requeue?: boolean }) => {
      const { deadLettersCommand } = await import('./events-command.js');
      await guardConfig(() => deadLettersCommand(file, opts));
    });
  registerAuthCommands(program);
  registerSyncCommand(program);
  registerConfigureCommand(program);
  registerDoctorCommand(program);
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
