// `berth config verify|print|schema`: check a file without starting anything.
import { loadConfig, ConfigError } from '../config/load.js';
import { ConfigSchema } from '../config/schema.js';
import { maskConfig } from '../config/mask.js';
import { checkKeyFiles } from '../config/key-files.js';

export function verifyCommand(file: string): number {
  try {
    const { config, warnings } = loadConfig({ file, env: process.env });
    for (const w of [...warnings, ...checkKeyFiles(config, { skipUnreadable: true })]) process.stdout.write(`warning: ${w}\n`);
    process.stdout.write(`${file}: configuration is valid\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export function printCommand(file: string | undefined): void {
  const { config } = loadConfig({ ...(file ? { file } : {}), env: process.env });
  process.stdout.write(`${JSON.stringify(maskConfig(config), null, 2)}\n`);
}

export function schemaCommand(): void {
  process.stdout.write(`${JSON.stringify(ConfigSchema, null, 2)}\n`);
}
