// WWW-Authenticate parsing (RFC 7235 auth-params, as registries send them):
// `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"` or `Basic realm="x"`.

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) {
    // A scheme token, then comma-separated key=value or key="quoted" pairs; another scheme may follow.
    const re = /\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:\s+|$)|\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
    let current: Challenge | undefined;
    let m: RegExpExecArray | null;
    while (re.lastIndex < value.length && (m = re.exec(value)) !== null) {
      if (m[1] !== undefined) {
        current = { scheme: m[1].toLowerCase(), params: {} };
        out.push(current);
      } else if (current && m[2] !== undefined) {
        current.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? '');
      }
      if (m[0] === '') break;
    }
  }
  return out;
}
