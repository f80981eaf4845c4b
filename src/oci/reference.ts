// Repository names and tags, validated against the distribution-spec grammar before
// either is allowed anywhere near a storage path.

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_GRAMMAR = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_GRAMMAR = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Distribution rejects longer names; clients count host + '/' + name against 255 too. */
export const MAX_NAME_LENGTH = 255;

export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME_GRAMMAR.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_GRAMMAR.test(tag);
}

/** A manifest reference is a digest when it contains ':' (tags cannot). */
export function looksLikeDigest(reference: string): boolean {
  return reference.includes(':');
}
