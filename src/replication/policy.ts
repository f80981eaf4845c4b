// A replication policy as the workers use it: its settings plus the compiled repository globs
// and tag expression, and the name mapping between the two sides.
import type { ReplicationPolicySettings } from '../config/sections/replication.js';
import { globToRegExp } from '../policy/patterns.js';

export class ReplicationPolicy {
  readonly settings: ReplicationPolicySettings;
  /** Where the policy came from: config.yml, or the admin API (kept in the metadata database). */
  readonly origin: 'config' | 'api';
  readonly #repositories: RegExp[];
  readonly #tags: RegExp | undefined;

  constructor(settings: ReplicationPolicySettings, origin: 'config' | 'api') {
    this.settings = settings;
    this.origin = origin;
    this.#repositories = settings.repositories.map(globToRegExp);
    this.#tags = settings.tags !== undefined ? new RegExp(settings.tags) : undefined;
  }

  get name(): string {
    return this.settings.name;
  }

  get tagFilter(): RegExp | undefined {
    return this.#tags;
  }

  /** Whether a source-side repository is the policy's. */
  coversRepository(name: string): boolean {
    return this.#repositories.some((r) => r.test(name));
  }

  coversTag(tag: string): boolean {
    return !this.#tags || this.#tags.test(tag);
  }

  /** The globs name repositories outright (no wildcard): no catalog needs listing to find them. */
  literalRepositories(): string[] | undefined {
    const names = this.settings.repositories;
    return names.every((g) => !/[*?{]/.test(g)) ? [...names] : undefined;
  }

  /** The destination-side name of a source-side repository. */
  destinationOf(repository: string): string {
    const prefix = this.settings.destination;
    if (prefix === '') return repository;
    return prefix.endsWith('/') ? `${prefix}${repository}` : `${prefix}/${repository}`;
  }

  /** Whether a push or delete in `repository` is this policy's to replicate at once. */
  takesEvent(repository: string, kind: 'push' | 'delete'): boolean {
    const s = this.settings;
    return s.enabled && s.direction === 'push' && s.trigger.event && (kind === 'push' || s.deletes) && this.coversRepository(repository);
  }
}
