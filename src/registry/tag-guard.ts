// A hook in manifest PUT and DELETE for tag rules that live outside the core (immutable tags,
// src/policy/immutable-tags.ts). It throws a RegistryError (DENIED) to refuse.

export interface TagGuard {
  /** Called before `tag` of `name` is moved from `current` (undefined: new tag) to `digest`. */
  beforeTag(name: string, tag: string, digest: string, current: string | undefined): void;
  /** Called before the tags listed are removed (a tag DELETE, or a manifest DELETE with its tags). */
  beforeUntag(name: string, tags: string[]): void;
  /** Whether any rule applies to `name` (so the core can skip listing tags when none does). */
  applies(name: string): boolean;
}
