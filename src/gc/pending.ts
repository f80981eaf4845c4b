// How long the sweep's deletion marks hold. The marks themselves are storage-backed and owned by
// the core (registry.maintenance.markPending), because manifest PUT reads them. Nothing is moved
// or hidden: pulls keep working until the real delete, and a mark left by a crashed run expires
// by itself (and the next run clears it first).
import { tryParseDigest, type Digest } from '../oci/digest.js';

/** How long a mark holds; a sweep that cannot finish within it deletes nothing. */
export const MARK_TTL_MS = 30 * 60_000;

/** A digest the inventory reported (always well formed). */
export function parse(digest: string): Digest {
  return tryParseDigest(digest) as Digest;
}
