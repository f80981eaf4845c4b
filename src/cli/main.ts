// The `berth` command line.
import { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { printCommand, schemaCommand, verifyCommand } from './config-command.js';

const CLIENT_TOOLS = new Set(['copy', 'save', 'load', 'login', 'sync', 'configure', 'doctor', 'help', '--help', '-h']);

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
  // Client tools load the OCI client: only for their own commands and for help.
  if (CLIENT_TOOLS.has(argv[2] ?? 'help')) (await import('./client-tools.js')).registerClientTools(program);
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
