// The one authorizer: which of the requested scopes an identity gets, from project visibility,
// membership roles, robot permissions, token claims and per-project address allow-lists. Both
// the registry (Basic) and the token server use it, so the two can never disagree.
import type { AccessStore, Project } from './access-store.js';
import { AddressList } from './allowlist.js';
import type { Identity } from './identity.js';
import { ROLES, projectOf } from './roles.js';
import type { Access } from './scope.js';

export class Authorizer {
  constructor(private readonly store: AccessStore | undefined) {}

  /** The granted subset of `requested` (entries with no action left are dropped). */
  async grant(identity: Identity, requested: Access[], address: string): Promise<Access[]> {
    const projects = new Map<string, Promise<Project | undefined>>();
    const out: Access[] = [];
    for (const r of requested) {
      const allowed = await this.#allowed(identity, r, address, projects);
      const actions = r.actions.filter((a) => allowed.includes(a) || allowed.includes('*'));
      if (actions.length > 0) out.push({ type: r.type, name: r.name, actions });
    }
    return out;
  }

  /** Keeps the repositories the identity may pull from. */
  async visible(identity: Identity, repositories: string[], address: string): Promise<string[]> {
    const granted = await this.grant(identity, repositories.map((name) => ({ type: 'repository', name, actions: ['pull'] })), address);
    const ok = new Set(granted.map((g) => g.name));
    return repositories.filter((r) => ok.has(r));
  }

  async #allowed(identity: Identity, r: Access, address: string, projects: Map<string, Promise<Project | undefined>>): Promise<string[]> {
    if (r.type === 'registry' && r.name === 'catalog') return ['*'];
    if (r.type !== 'repository') return [];
    const name = projectOf(r.name);
    if (!projects.has(name)) projects.set(name, this.store?.project(name) ?? Promise.resolve(undefined));
    const project = await projects.get(name);
    if (project && !new AddressList(project.allowFrom).allows(address)) return [];
    if (identity.kind === 'token') {
      return identity.access.filter((a) => a.type === r.type && a.name === r.name).flatMap((a) => a.actions);
    }
    if (identity.kind === 'pat') {
      // The owner's rights now, narrowed to what the token names for this project.
      const owner = await this.#allowed(identity.owner, r, address, projects);
      const scoped = identity.scopes.filter((s) => s.project === '*' || s.project === name).flatMap((s) => s.actions);
      return owner.includes('*') ? scoped : owner.filter((a) => scoped.includes(a));
    }
    if (identity.kind === 'htpasswd' || (identity.kind === 'user' && identity.admin)) return ['*'];
    if (!project) return [];
    const actions: string[] = project.public ? ['pull'] : [];
    if (identity.kind === 'user') {
      const role = identity.source ? undefined : await this.store?.roleOf(project.name, identity.name);
      if (role) actions.push(...ROLES[role]);
      for (const g of identity.roles ?? []) if (g.project === project.name) actions.push(...ROLES[g.role]);
    } else if (identity.kind === 'robot') {
      for (const p of identity.permissions) if (p.project === project.name) actions.push(...p.actions);
    }
    return actions;
  }
}
