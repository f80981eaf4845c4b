// What the commands that keep objects in the metadata database share (`berth replication
// endpoint|policy`, `berth trust policy`): reading a file of entries, printing a result as text
// or JSON, and turning a refusal into a plain message and exit code 1.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Kysely } from 'kysely';
import { parse as parseYaml } from 'yaml';
import { appendAudit } from '../auth/audit.js';
import type { MetaTables } from '../meta/tables/index.js';

export interface OutputFlags {
  json?: boolean;
}

/** The entries of a YAML or JSON file (or standard input for `-`): one object or a list of them. */
export function entriesOf(file: string, what: string, shape: string): Record<string, unknown>[] {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${file}: not YAML or JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : [doc];
  list.forEach((e, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new Error(`${file}: ${what} ${i}: expected an object in the shape of ${shape}`);
  });
  return list as Record<string, unknown>[];
}

/** An audit entry for a change made from the command line, by `cli:<login>` (the API's by the signed-in user). */
export function cliAudit(db: Kysely<MetaTables>, action: string, target: string, detail?: Record<string, unknown>): Promise<void> {
  return appendAudit(db, { actor: `cli:${userInfo().username}`, address: 'local', action, target, ...(detail ? { detail } : {}) });
}

export function printResult(flags: OutputFlags, value: unknown, text: () => string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(value, null, 2)}\n` : text());
}

/** Runs a command's body; a refusal is printed as `berth: message` with exit code 1 (a configuration error propagates, to be reported as such). */
export async function runReporting(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if ((err as Error).name === 'ConfigError') throw err;
    process.stderr.write(`berth: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
