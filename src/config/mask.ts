// The configuration as it may be shown: every key the schema marks `secret(...)` is masked, and
// below keys no schema describes (Distribution sections Berth ignores, log.fields) any key whose
// name looks like a credential is. Every printer of the configuration goes through here.
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type ConfigInput } from './schema.js';
import { SECRET, type SecretKind } from './sections/common.js';
import { looksSecret } from './secret-names.js';

export const MASK = '[redacted]';
/** Inside URLs, where brackets would be percent-encoded. */
const URL_MASK = '***';

/** The configuration as written (or resolved: only keys and strings are judged). */
export function maskConfig(config: ConfigInput | object): unknown {
  return maskWith(ConfigSchema, config);
}

/** `value` masked as `schema` says, recursively. */
export function maskWith(schema: TSchema | undefined, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (!schema) return maskByName(value);
  const kind = schema[SECRET] as SecretKind | undefined;
  if (kind) return maskKind(kind, value);
  switch (schema[Kind]) {
    case 'Object': {
      if (!isTree(value)) return value;
      const props = (schema.properties ?? {}) as Record<string, TSchema>;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, props[k] ? maskWith(props[k], v) : maskNamed(k, v)]));
    }
    case 'Record': {
      if (!isTree(value)) return value;
      const item = Object.values((schema.patternProperties ?? {}) as Record<string, TSchema>)[0];
      // Free-form maps (log.fields) can only be judged by their keys; typed ones (projects) by their schema.
      const free = !item || item[Kind] === 'Unknown';
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, free ? maskNamed(k, v) : maskWith(item, v)]));
    }
    case 'Array':
      return Array.isArray(value) ? value.map((v) => maskWith(schema.items as TSchema, v)) : value;
    case 'Union': {
      const variant = (schema.anyOf as TSchema[]).find((s) => Value.Check(s, value));
      return maskWith(variant, value);
    }
    default:
      // Unknown (ignored Distribution keys), Any, and scalars: only names can tell.
      return maskByName(value);
  }
}

function maskKind(kind: SecretKind, value: unknown): unknown {
  switch (kind) {
    case 'value':
      return value === '' ? value : MASK;
    case 'url':
      return typeof value === 'string' ? maskUrl(value) : MASK;
    case 'path':
      // A path is not a secret; key material pasted in its place is.
      return typeof value === 'string' && !/-----BEGIN|\n/.test(value) ? value : MASK;
    case 'headers':
      if (!isTree(value)) return MASK;
      return Object.fromEntries(Object.entries(value).map(([name, v]) => [name, looksSecret(name) ? maskLeaves(v) : v]));
  }
}

/** A URL with its password and credential-like query parameters masked; the rest kept to tell which server. */
export function maskUrl(text: string): string {
  // "" and "none" say "no URL" (a direct connection instead of a proxy).
  if (text === '' || text === 'none') return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not parseable, so no telling where a credential is in it.
    return MASK;
  }
  const secretParams = [...url.searchParams.keys()].filter(looksSecret);
  // Untouched URLs are printed as written, not as the URL parser normalizes them.
  if (!url.password && secretParams.length === 0) return text;
  if (url.password) url.password = URL_MASK;
  for (const name of secretParams) url.searchParams.set(name, URL_MASK);
  return url.toString();
}

function maskByName(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskByName);
  if (!isTree(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskNamed(k, v)]));
}

function maskNamed(key: string, value: unknown): unknown {
  return looksSecret(key) ? maskLeaves(value) : maskByName(value);
}

/** Every scalar below `value` masked, its shape kept (header value lists stay lists). */
function maskLeaves(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskLeaves);
  if (isTree(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskLeaves(v)]));
  return value === undefined || value === null || value === '' ? value : MASK;
}

function isTree(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
