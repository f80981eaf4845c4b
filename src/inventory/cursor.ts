// Keyset cursors of the read API's pages: the sort key and the tie-breaker of the last item
// served, opaque to callers (base64url JSON), checked on the way back in.
export interface Cursor {
  /** The sort key of the last item served (a name, a time or a size). */
  k: string | number;
  /** Its tie-breaker (a repository name or a digest). */
  t: string;
}

export class CursorError extends Error {}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('cursor is not one this API gave');
  }
  const c = parsed as Partial<Cursor> | null;
  if (typeof c !== 'object' || c === null || (typeof c.k !== 'string' && typeof c.k !== 'number') || typeof c.t !== 'string') {
    throw new CursorError('cursor is not one this API gave');
  }
  return { k: c.k, t: c.t };
}

/** A LIKE pattern matching `text` anywhere, its wildcards escaped (with `escape '\'`). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
