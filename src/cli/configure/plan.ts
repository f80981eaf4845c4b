// A configuration change as a list of file edits: shown as a unified diff (--dry-run) or
// applied with a backup of every file it replaces, each write atomic (temp file, rename).
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createTwoFilesPatch } from 'diff';

export interface FileEdit {
  /** Where the file is written (the --root prefix included). */
  path: string;
  /** New content. */
  content: string | Buffer;
  mode?: number;
  /** Strings (passwords) the diff shows as ***: a --dry-run output ends up in terminals and logs. */
  secrets?: string[];
}

export interface Plan {
  edits: FileEdit[];
  /** What must happen afterwards for the change to take effect. */
  restart: string[];
  notes: string[];
}

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function under(root: string, path: string): string {
  return root === '/' ? path : join(root, path);
}

/** The unified diff of every edit that changes something. */
export async function planDiff(plan: Plan): Promise<string> {
  let out = '';
  for (const edit of plan.edits) {
    const before = await readOptional(edit.path);
    const after = Buffer.isBuffer(edit.content) ? edit.content.toString('utf8') : edit.content;
    if (before === after) continue;
    const hide = (text: string) => (edit.secrets ?? []).filter((x) => x).reduce((t, x) => t.split(x).join('***'), text);
    out += createTwoFilesPatch(before === undefined ? '/dev/null' : edit.path, edit.path, hide(before ?? ''), hide(after), undefined, undefined, { context: 3 });
  }
  return out;
}

/** Writes every changed file; returns the files written and the backups made. */
export async function applyPlan(plan: Plan, stamp = new Date().toISOString().replace(/[:.]/g, '-')): Promise<{ written: string[]; backups: string[] }> {
  const written: string[] = [];
  const backups: string[] = [];
  for (const edit of plan.edits) {
    const before = await readOptional(edit.path);
    const after = Buffer.isBuffer(edit.content) ? edit.content.toString('utf8') : edit.content;
    if (before === after) continue;
    await mkdir(dirname(edit.path), { recursive: true });
    if (before !== undefined) {
      const backup = `${edit.path}.berth-backup-${stamp}`;
      await copyFile(edit.path, backup);
      backups.push(backup);
    }
    const temp = `${edit.path}.berth-${process.pid}.tmp`;
    await writeFile(temp, edit.content, { mode: edit.mode ?? 0o644 });
    await rename(temp, edit.path);
    written.push(edit.path);
  }
  return { written, backups };
}
