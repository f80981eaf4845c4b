// Manifest bytes by digest, kept in memory: a manifest GET or HEAD by tag read three files (the
// tag link, the revision link, the content), and the content read and its parse are the half of
// it that never changes, since a digest names one content forever. Tags and revision links are
// still read from storage on every request, so a tag moved or a manifest deleted by another
// replica is seen at once; only bytes already checked against their digest are kept here.
import type { ParsedManifest } from '../oci/manifest.js';

export interface CachedManifest {
  content: Buffer;
  parsed: ParsedManifest | undefined;
}

/** Bytes of manifests kept (all entries together); least recently used go first. */
const MAX_TOTAL_BYTES = 2 * 1024 * 1024;
/** Larger manifests (indexes of hundreds of platforms) are read each time. */
const MAX_ENTRY_BYTES = 64 * 1024;

export class ManifestContentCache {
  readonly #entries = new Map<string, CachedManifest>();
  #bytes = 0;

  get(digest: string): CachedManifest | undefined {
    const hit = this.#entries.get(digest);
    if (!hit) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.#entries.delete(digest);
    this.#entries.set(digest, hit);
    return hit;
  }

  set(digest: string, entry: CachedManifest): void {
    if (entry.content.length > MAX_ENTRY_BYTES || this.#entries.has(digest)) return;
    this.#entries.set(digest, entry);
    this.#bytes += entry.content.length;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= MAX_TOTAL_BYTES) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.content.length;
    }
  }

  /** Entries and bytes held (tests). */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }
}
