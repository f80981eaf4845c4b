// Project roles and the repository actions each one grants.
export const ROLES = {
  guest: ['pull'],
  developer: ['pull', 'push'],
  maintainer: ['pull', 'push', 'delete'],
  admin: ['pull', 'push', 'delete'],
} as const satisfies Record<string, readonly string[]>;

export type Role = keyof typeof ROLES;

export const REPOSITORY_ACTIONS = ['pull', 'push', 'delete'] as const;

export function isRole(text: string): text is Role {
  return Object.hasOwn(ROLES, text);
}

/** The project of a repository: its first path component (Harbor's convention). */
export function projectOf(repository: string): string {
  const slash = repository.indexOf('/');
  return slash < 0 ? repository : repository.slice(0, slash);
}
