// What `berth sync` and replication share: which tags of a repository a mirror copies, and the
// rule that a tag is copied only when the destination's digest differs from the source's.
import { copyImage, type CopyOptions, type CopyResult } from './copy.js';
import type { ImageDestination, ImageSource } from './types.js';

/** The referrers tag schema's index tags (`sha256-<hex>`): they travel with their subjects. */
const REFERRERS_TAG = /^sha256-[0-9a-f]{64}$/;

/** The tags a mirror copies: those `filter` accepts, without referrers-schema tags, sorted. */
export function mirroredTags(tags: string[], filter?: RegExp): string[] {
  return tags.filter((t) => !REFERRERS_TAG.test(t) && (!filter || filter.test(t))).sort();
}

export type MirrorOutcome = { status: 'unchanged'; digest: string } | { status: 'copied'; digest: string; result: CopyResult };

/**
 * Copies `source` to `destination` under `options.tag` unless the destination already holds
 * the source's digest there (`have` and `want`: the two sides' digests of the tag, if known).
 */
export async function mirrorTag(source: ImageSource, destination: ImageDestination, have: string | undefined, want: string | undefined, options: CopyOptions): Promise<MirrorOutcome> {
  if (want !== undefined && have === want) return { status: 'unchanged', digest: want };
  const result = await copyImage(source, destination, options);
  return { status: 'copied', digest: result.digest, result };
}
