// An htpasswd file (bcrypt entries, as `htpasswd -B` writes them), re-read when it changes so
// that an operator's edit takes effect without a restart.
import { readFileSync, statSync } from 'node:fs';

export class HtpasswdFile {
  #entries = new Map<string, string>();
  #mtime = -1;

  constructor(readonly path: string) {
    this.#reload();
  }

  /** The bcrypt hash of `user`, or undefined. */
  hashOf(user: string): string | undefined {
    this.#reload();
    return this.#entries.get(user);
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
    this.#mtime = stat.mtimeMs;
  }
}
