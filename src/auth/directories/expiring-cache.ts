// A small map whose entries expire: what an external directory said is trusted for `ttlMs`, so a
// `docker pull` of many layers asks the directory once, and a change there applies after `ttlMs`.
export class ExpiringCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly ttlMs: number, private readonly maxEntries = 10_000, private readonly now: () => number = Date.now) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    // Full: the oldest insertion goes (Map keeps insertion order).
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, until: this.now() + this.ttlMs });
  }

  clear(): void {
    this.#entries.clear();
  }
}
