// What every local configuration check gets: where the files are and what the network learned.
import { readFile } from 'node:fs/promises';

export interface LocalContext {
  root: string;
  host: string;
  hostname: string;
  /** What the network checks learned: the registry speaks only HTTP / its CA is unknown. */
  plainHttp: boolean;
  unknownCa: boolean;
  timeoutMs: number;
}

export const read = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

/** host[:port] of a URL or of a bare `host[:port][/path]`, as clients key registries. */
export function hostOf(location: string): string {
  return location.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
}
