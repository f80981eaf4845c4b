// Removes the filesystem driver's temporaries left by a crash. putContent writes
// `<path>.berth-tmp-<uuid>` and renames it into place; delete renames a file or directory to
// such a name and then removes it. A process killed in between leaves the temporary behind,
// invisible to list() and so to every other cleanup. The upload purger runs this on its schedule
// with the same age: a write in progress is seconds old, never days (a directory set aside for
// deletion keeps its own, older, time and is swept at once: nothing reads it any more).
import { opendir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The marker in a temporary file's name (src/storage/drivers/filesystem.ts writes it). */
export const TEMP_MARKER = '.berth-tmp-';

export interface SweptFile {
  path: string;
  modTime: Date;
}

/** Removes (or, with dryRun, only lists) temporaries under `root` last modified before `cutoff`. */
export async function sweepTempFiles(root: string, cutoff: Date, dryRun = false): Promise<SweptFile[]> {
  const swept: SweptFile[] = [];
  for await (const path of tempFiles(root)) {
    const info = await stat(path).catch(() => undefined);
    // Gone meanwhile (renamed into place by a live writer), or too young to be abandoned.
    if (!info || info.mtime >= cutoff) continue;
    if (!dryRun) await rm(path, { force: true, recursive: true });
    swept.push({ path, modTime: info.mtime });
  }
  return swept;
}

/** Every file or directory under `dir` whose name carries the marker (not what is inside it); a directory vanishing mid-walk is skipped. */
async function* tempFiles(dir: string): AsyncGenerator<string> {
  const handle = await opendir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!handle) return;
  for await (const entry of handle) {
    const path = join(dir, entry.name);
    if (entry.name.includes(TEMP_MARKER)) yield path;
    else if (entry.isDirectory()) yield* tempFiles(path);
  }
}
