// `berth config verify|print|schema`: check a file without starting anything.
import { loadConfig, loadConfigInput, ConfigError } from '../config/load.js';
import { ConfigSchema } from '../config/schema.js';
import { maskConfig } from '../config/mask.js';
import { checkKeyFiles } from '../config/key-files.js';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { unusableEntryWarnings } from '../auth/htpasswd.js';

export function verifyCommand(file: string): number {
  try {
    const { config, warnings } = loadConfig({ file, env: process.env });
    for (const w of [...warnings, ...checkKeyFiles(config, { skipUnreadable: true }), ...htpasswdWarnings(config)]) process.stdout.write(`warning: ${w}\n`);
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

/** Users of the htpasswd file who could never sign in; nothing when verify cannot read it (run away from the server). */
function htpasswdWarnings(config: Config): string[] {
  const path = config.auth?.htpasswd?.path;
  if (!path) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return [`auth.htpasswd.path: cannot read ${path} (${(err as Error).message}); its entries were not checked`];
  }
  return unusableEntryWarnings(path, text);
}

export function printCommand(file: string | undefined): void {
  // As written (Distribution's "20m", "10GB"), with the defaults filled in.
  const { input } = loadConfigInput({ ...(file ? { file } : {}), env: process.env });
  process.stdout.write(`${JSON.stringify(maskConfig(input), null, 2)}\n`);
}

export function schemaCommand(): void {
  process.stdout.write(`${JSON.stringify(ConfigSchema, null, 2)}\n`);
}
