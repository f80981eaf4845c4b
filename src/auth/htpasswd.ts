// An htpasswd file (bcrypt entries, as `htpasswd -B` writes them), re-read when it changes so
// that an operator's edit takes effect without a restart.
import { readFileSync, statSync } from 'node:fs';
import { bcryptCost } from './passwords.js';

export class HtpasswdFile {
  #entries = new Map<string, string>();
  #mtime = -1;
  #cost: number | undefined;

  constructor(readonly path: string) {
    this.#reload();
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
