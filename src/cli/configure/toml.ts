// TOML files of the container clients (containerd's config.toml and hosts.toml, Podman's
// registries.conf) read and written through one parser, smol-toml: a regular expression cannot
// tell a key in one table from the same key in another, and string edits break on inline tables,
// dotted keys and multi-line arrays. smol-toml does not keep comments; every replaced file is
// backed up first (plan.ts), so they can be copied back from there.
import { parse, stringify, TomlError } from 'smol-toml';

export type TomlTable = Record<string, unknown>;

export function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (err) {
    const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : '';
    throw new Error(`${file} is not valid TOML${where}: ${(err as Error).message.split('\n')[0]}; the client refuses it too, fix it first`);
  }
}

export function stringifyToml(doc: TomlTable): string {
  return `${stringify(doc).replace(/^\n+/, '')}\n`;
}

export function isTable(v: unknown): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** The table at `path`, created (and attached) when missing. */
export function tableAt(doc: TomlTable, path: string[]): TomlTable {
  let t = doc;
  for (const key of path) {
    if (!isTable(t[key])) t[key] = {};
    t = t[key] as TomlTable;
  }
  return t;
}

/** The table at `path`, or undefined; nothing is created. */
export function findTable(doc: TomlTable | undefined, path: string[]): TomlTable | undefined {
  let t: unknown = doc;
  for (const key of path) {
    if (!isTable(t)) return undefined;
    t = t[key];
  }
  return isTable(t) ? t : undefined;
}

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
