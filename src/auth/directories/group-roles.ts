// What a user's groups in an external directory (LDAP DNs, OpenID Connect group names) give it
// here: project roles from the configured map, and system administrator from the admins group.
import type { GroupRole } from '../identity.js';
import type { GroupRolesConfig } from '../../config/sections/directories.js';

export interface GroupGrants { admin: boolean; roles: GroupRole[] }

export class GroupMapping {
  readonly #roles = new Map<string, GroupRole[]>();
  readonly #admins: string | undefined;

  /** `normalize` makes two spellings of one group equal (LDAP DNs are case-insensitive). */
  constructor(groups: GroupRolesConfig, admins: string | undefined, private readonly normalize: (group: string) => string = (g) => g) {
    for (const [group, roles] of Object.entries(groups)) this.#roles.set(normalize(group), roles.map((r) => ({ project: r.project, role: r.role })));
    this.#admins = admins === undefined ? undefined : normalize(admins);
  }

  grants(groups: Iterable<string>): GroupGrants {
    const roles: GroupRole[] = [];
    let admin = false;
    for (const group of new Set([...groups].map(this.normalize))) {
      if (group === this.#admins) admin = true;
      roles.push(...(this.#roles.get(group) ?? []));
    }
    return { admin, roles };
  }
}
