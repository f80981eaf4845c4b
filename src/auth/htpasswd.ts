// An htpasswd file (bcrypt entries, as `htpasswd -B` writes them), re-read when it changes so
// that an operator's edit takes effect without a restart.
import { readFileSync, statSync } from 'node:fs';
import { bcryptCost } from './passwords.js';

/** A line of the file whose hash Berth cannot check: that user can never sign in. */
export interface UnusableEntry { line: number; user: string; scheme: string }

/** What a non-bcrypt htpasswd hash is, in the words of `htpasswd`'s options. */
function hashScheme(hash: string): string | undefined {
  if (bcryptCost(hash) !== undefined) return undefined;
  if (hash.startsWith('$apr1$')) return 'an Apache MD5 hash ($apr1$, what `htpasswd` and `htpasswd -m` write)';
  if (hash.startsWith('{SHA}')) return 'a SHA-1 hash ({SHA}, `htpasswd -s`)';
  if (hash.startsWith('$1$')) return 'an MD5-crypt hash ($1$)';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'a SHA-crypt hash ($5$/$6$)';
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return 'a crypt hash (`htpasswd -d`) or a plain-text password';
  return 'a plain-text password (`htpasswd -p`) or a hash Berth does not know';
}

/** The entries of an htpasswd text that are not bcrypt, by line number. */
export function unusableEntries(text: string): UnusableEntry[] {
  const out: UnusableEntry[] = [];
  text.split('\n').forEach((line, i) => {
    const trimmed = line.trim();
    const colon = trimmed.indexOf(':');
    if (!trimmed || trimmed.startsWith('#') || colon <= 0) return;
    const scheme = hashScheme(trimmed.slice(colon + 1));
    if (scheme) out.push({ line: i + 1, user: trimmed.slice(0, colon), scheme });
  });
  return out;
}

/** One sentence per unusable entry of the file at `path`, for startup and `config verify`. */
export function unusableEntryWarnings(path: string, text: string = readFileSync(path, 'utf8')): string[] {
  return unusableEntries(text).map((e) => `htpasswd ${path} line ${e.line}: user "${e.user}" has ${e.scheme}; `
    + 'Berth accepts only bcrypt, so this user cannot sign in (set the password again with `htpasswd -B`)');
}

export class HtpasswdFile {
  #entries = new Map<string, string>();
  #mtime = -1;
  #cost: number | undefined;

  constructor(readonly path: string) {
    this.#reload();
  }

  /** Whether the file has an entry for `user`, whatever its hash. */
  has(user: string): boolean {
    this.#reload();
    return this.#entries.has(user);
  }

  /** The bcrypt hash of `user`, or undefined. */
  hashOf(user: string): string | undefined {
    this.#reload();
    return this.#entries.get(user);
  }

  /** The most common bcrypt cost of the file's entries (`htpasswd -B` writes 5 unless told `-C`), or undefined when empty. */
  cost(): number | undefined {
    this.#reload();
    return this.#cost;
  }

  #reload(): void {
    const stat = statSync(this.path, { throwIfNoEntry: false });
    if (!stat) throw new Error(`htpasswd file ${this.path} does not exist`);
    if (stat.mtimeMs === this.#mtime) return;
    const entries = new Map<string, string>();
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) continue;
      const colon = trimmed.indexOf(':');
      if (colon <= 0) continue;
      entries.set(trimmed.slice(0, colon), trimmed.slice(colon + 1));
    }
    this.#entries = entries;
    this.#cost = mostCommonCost([...entries.values()]);
    this.#mtime = stat.mtimeMs;
  }
}

function mostCommonCost(hashes: string[]): number | undefined {
  const counts = new Map<number, number>();
  for (const h of hashes) {
    const c = bcryptCost(h);
    if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best: number | undefined;
  for (const [cost, n] of counts) if (best === undefined || n > counts.get(best)!) best = cost;
  return best;
}
