// Immutable tags: per project, tags matching a pattern can be neither moved by a push nor
// deleted. Plugged into the core's manifest PUT/DELETE as its TagGuard. Pushing the same
// digest again is allowed (clients retry pushes), only a change is refused.
import { RegistryError } from '../errors/index.js';
import type { TagGuard } from '../registry/tag-guard.js';
import { projectOf } from './patterns.js';
import type { ProjectPolicy } from './policies.js';

export class ImmutableTags implements TagGuard {
  readonly #policies: Map<string, ProjectPolicy>;

  constructor(policies: Map<string, ProjectPolicy>) {
    this.#policies = policies;
  }

  /** A guard only when some project has immutable patterns; the core skips the hook otherwise. */
  static from(policies: Map<string, ProjectPolicy>): ImmutableTags | undefined {
    return [...policies.values()].some((p) => p.immutable.size > 0) ? new ImmutableTags(policies) : undefined;
  }

  applies(name: string): boolean {
    return (this.#policies.get(projectOf(name))?.immutable.size ?? 0) > 0;
  }

  /** The pattern making `tag` of `name` immutable, if any. */
  rule(name: string, tag: string): string | undefined {
    return this.#policies.get(projectOf(name))?.immutable.match(tag);
  }

  beforeTag(name: string, tag: string, digest: string, current: string | undefined): void {
    if (current === undefined || current === digest) return;
    const rule = this.rule(name, tag);
    if (rule) throw denied(name, tag, rule, 'overwritten');
  }

  beforeUntag(name: string, tags: string[]): void {
    for (const tag of tags) {
      const rule = this.rule(name, tag);
      if (rule) throw denied(name, tag, rule, 'deleted');
    }
  }
}

function denied(name: string, tag: string, rule: string, what: string): RegistryError {
  const project = projectOf(name);
  return new RegistryError('DENIED', { repository: name, tag, project, immutableRule: rule }, {
    message: `tag "${tag}" of ${name} is immutable and cannot be ${what} (rule "${rule}" of project "${project}")`,
  });
}
