// Verdicts kept per (policy, repository, digest), so a pull of a judged image costs a map
// lookup. Bounded (least recently used go first) and aged (a signature pushed through another
// replica is seen within `ttlMs`); dropped at once when this process sees a signature change.
import type { Verdict } from './verdict.js';

export class VerdictCache {
  readonly #entries = new Map<string, { verdict: Verdict; until: number }>();
  readonly #size: number;
  readonly #ttlMs: number;

  constructor(size: number, ttlMs: number) {
    this.#size = size;
    this.#ttlMs = ttlMs;
  }

  get(policy: string, repository: string, digest: string, now = Date.now()): Verdict | undefined {
    const key = keyOf(policy, repository, digest);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.until <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.verdict;
  }

  set(verdict: Verdict, now = Date.now()): void {
    const key = keyOf(verdict.policy, verdict.repository, verdict.digest);
    this.#entries.delete(key);
    this.#entries.set(key, { verdict, until: now + this.#ttlMs });
    while (this.#entries.size > this.#size) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Drops every policy's verdict on `digest` in `repository`. */
  drop(repository: string, digest: string): void {
    const suffix = `\0${repository}\0${digest}`;
    for (const key of [...this.#entries.keys()]) if (key.endsWith(suffix)) this.#entries.delete(key);
  }

  /** Drops every verdict of `policy` (changed or removed). */
  dropPolicy(policy: string): void {
    const prefix = `${policy}\0`;
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  dropRepository(repository: string): void {
    const part = `\0${repository}\0`;
    for (const key of [...this.#entries.keys()]) if (key.includes(part)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

function keyOf(policy: string, repository: string, digest: string): string {
  return `${policy}\0${repository}\0${digest}`;
}
