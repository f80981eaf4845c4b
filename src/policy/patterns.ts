// Tag patterns for retention and immutability rules: globs, matched against the whole tag.
// `*` any run of characters, `?` one character, `{a,b}` alternatives; everything else literal.

export function globToRegExp(glob: string): RegExp {
  let out = '';
  let inBraces = false;
  for (const ch of glob) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '{' && !inBraces) {
      inBraces = true;
      out += '(?:';
    } else if (ch === '}' && inBraces) {
      inBraces = false;
      out += ')';
    } else if (ch === ',' && inBraces) out += '|';
    else out += ch.replace(/[.+^$()|[\]\\{}]/g, '\\$&');
  }
  if (inBraces) throw new Error(`unclosed "{" in tag pattern "${glob}"`);
  return new RegExp(`^${out}$`);
}

export class TagPatterns {
  readonly #rules: { glob: string; re: RegExp }[];

  constructor(globs: string[]) {
    this.#rules = globs.map((glob) => ({ glob, re: globToRegExp(glob) }));
  }

  /** The first pattern matching `tag`, or undefined. */
  match(tag: string): string | undefined {
    return this.#rules.find((r) => r.re.test(tag))?.glob;
  }

  get size(): number {
    return this.#rules.length;
  }
}

/** A repository's project: its first path component. */
export function projectOf(repository: string): string {
  const slash = repository.indexOf('/');
  return slash < 0 ? repository : repository.slice(0, slash);
}
