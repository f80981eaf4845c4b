// Scopes as the Docker token specification writes them (`repository:team/app:pull,push`,
// `registry:catalog:*`) and as the `access` claim of a token carries them.
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** Parses one scope; repository names may carry a host-like part with ':' only in the middle. */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first);
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(',').map((a) => a.trim()).filter(Boolean);
  if (!name) return undefined;
  return { type: type.replace(/\(.*\)$/, ''), name, actions: [...new Set(actions)] };
}

/** All scopes of `scope` query parameters; each parameter may hold several separated by spaces. */
export function parseScopes(values: string[]): Access[] {
  const out: Access[] = [];
  for (const value of values) {
    for (const part of value.split(' ')) {
      const access = part ? parseScope(part) : undefined;
      if (access) out.push(access);
    }
  }
  return mergeAccess(out);
}

export function formatScope(access: Access): string {
  return `${access.type}:${access.name}:${access.actions.join(',')}`;
}

/** Merges entries for the same resource. */
export function mergeAccess(list: Access[]): Access[] {
  const byKey = new Map<string, Access>();
  for (const a of list) {
    const key = `${a.type}\u0000${a.name}`;
    const seen = byKey.get(key);
    if (seen) seen.actions = [...new Set([...seen.actions, ...a.actions])];
    else byKey.set(key, { type: a.type, name: a.name, actions: [...a.actions] });
  }
  return [...byKey.values()];
}

/** Whether `granted` covers every action of every entry of `required` (`*` covers all). */
export function covers(granted: Access[], required: Access[]): boolean {
  return required.every((r) => {
    const g = granted.find((x) => x.type === r.type && x.name === r.name);
    return g !== undefined && r.actions.every((a) => g.actions.includes(a) || g.actions.includes('*'));
  });
}
