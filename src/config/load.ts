// Loads configuration: schema defaults < YAML file < REGISTRY_* environment variables.
// Unknown keys are errors naming the nearest valid key; Distribution keys Berth does not
// implement yet come back as warnings for startup to print.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Value } from '@sinclair/typebox/value';
import { Kind, type TSchema } from '@sinclair/typebox';
import { ConfigSchema, DEFAULT_UPSTREAM, UNIMPLEMENTED, type ConfigInput, type Settings, type UpstreamSettings } from './schema.js';
import { MISNAMED } from './sections/common.js';
import { parseDuration } from './duration.js';
import { nearest } from './nearest.js';
import { authConfigProblems, isCidr } from './sections/auth.js';
import { proxyConfigProblems } from './sections/proxy.js';
import { opensslCiphers } from './tls-ciphers.js';
import { validationConfigProblems } from './sections/validation.js';
import { replicationConfigProblems } from './sections/replication.js';
import { trustConfigProblems } from './sections/trust.js';
import { retentionConfigProblems } from './sections/gc.js';
import { prepareStorage, selectDriver, type StorageSettings } from './sections/storage.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[], source?: string) {
    super(`invalid configuration${source ? ` in ${source}` : ''}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  /** Resolved: milliseconds, bytes, upstreams (see Settings). */
  config: Settings;
  /** Keys that were set but are not implemented, with the reason. */
  warnings: string[];
}

export interface LoadedInput {
  /** As written, with the schema's defaults, checked. */
  input: ConfigInput;
  warnings: string[];
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
}

type Tree = Record<string, unknown>;

/** Reads, checks and resolves the configuration: defaults < file < REGISTRY_* variables. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const { input, warnings } = loadConfigInput(options);
  return { config: resolveConfig(input, options.file), warnings };
}

/** The checked configuration as written (with defaults), before resolution: for printing it, or to change it in code before `resolveConfig`. */
export function loadConfigInput(options: LoadOptions = {}): LoadedInput {
  const raw = options.file ? readYaml(options.file) : {};
  const problems: string[] = [];
  // YAML reads `version: 0.1` as a number; Distribution reads it as the string "0.1".
  if (typeof raw.version === 'number') raw.version = String(raw.version);
  const warnings: string[] = [];
  applyEnvironment(raw, options.env ?? {}, problems, warnings);
  collectUnimplemented(ConfigSchema, raw, '', warnings);
  if (raw.loglevel !== undefined && (raw.log as Tree | undefined)?.level === undefined) {
    raw.log = { ...((raw.log as Tree | undefined) ?? {}), level: raw.loglevel };
  }
  prepareStorage(raw);
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw)) as Tree;
  for (const error of Value.Errors(ConfigSchema, withDefaults)) problems.push(...explain(error.path, error.message, withDefaults));
  if (problems.length === 0) problems.push(...selectDriver(withDefaults.storage as Tree));
  if (problems.length === 0) checkSemantics(withDefaults as ConfigInput, problems);
  if (problems.length > 0) throw new ConfigError([...new Set(problems)], options.file);
  return { input: withDefaults as ConfigInput, warnings };
}

/**
 * Settings from a configuration as written: durations become milliseconds, sizes bytes, and
 * Distribution's `proxy.remoteurl` the upstream "default" that owns every name unprefixed, with
 * Distribution's meaning (a tag is asked of the upstream on every pull, `ttl` is how long cached
 * content lives since it was last pulled).
 */
export function resolveConfig(input: ConfigInput, source?: string): Settings {
  let decoded: ReturnType<typeof decode>;
  try {
    decoded = decode(input);
  } catch (err) {
    const problems = [...Value.Errors(ConfigSchema, input)].map((e) => describe(e.path, e.message, input as Tree));
    throw new ConfigError(problems.length > 0 ? problems : [(err as Error).message], source);
  }
  const p = decoded.proxy;
  const upstreams: UpstreamSettings[] = p.remoteurl !== undefined
    ? [{
      name: DEFAULT_UPSTREAM, remoteurl: p.remoteurl, prefix: undefined, namespaces: [], root: true, ttl: 0, timeout: 30_000,
      tls: { insecureskipverify: false }, maxsize: 0, maxage: p.ttl, breakerthreshold: 5, breakercooldown: 30_000, allowedhosts: p.allowedhosts,
      ...(p.proxy !== undefined ? { proxy: p.proxy } : {}), ...(p.verify !== undefined ? { verify: p.verify } : {}),
      ...(p.username !== undefined ? { username: p.username } : {}), ...(p.password !== undefined ? { password: p.password } : {}),
    }]
    : p.upstreams.map((u) => ({ ...u, prefix: u.name }));
  return { ...decoded, storage: decoded.storage as unknown as StorageSettings, proxy: { upstreams, eviction: p.eviction } };
}

/** Defaults again first: a configuration changed in code may leave out keys the schema fills. */
function decode(input: ConfigInput) {
  return Value.Decode(ConfigSchema, Value.Default(ConfigSchema, Value.Clone(input)));
}

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${file}: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`not valid YAML: ${(err as Error).message}`], file);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(['the top level must be a mapping'], file);
  return doc as Tree;
}

/**
 * Distribution's mapping: REGISTRY_STORAGE_DELETE_ENABLED=true sets storage.delete.enabled.
 * A variable inside a known section that names no key is an error (a typo would otherwise go
 * unnoticed); one whose first part is no section at all is only a warning, because Kubernetes
 * injects REGISTRY_PORT, REGISTRY_SERVICE_HOST, ... into pods beside a Service named `registry`.
 */
function applyEnvironment(raw: Tree, env: NodeJS.ProcessEnv, problems: string[], warnings: string[]): void {
  const sections = ConfigSchema.properties as Record<string, TSchema>;
  for (const [variable, value] of Object.entries(env).sort()) {
    if (!variable.startsWith('REGISTRY_') || value === undefined) continue;
    const segments = variable.slice('REGISTRY_'.length).split('_');
    const resolved = resolveEnvPath(ConfigSchema, segments);
    if (typeof resolved === 'string') {
      if (Object.hasOwn(sections, segments[0]!.toLowerCase())) problems.push(`environment variable ${variable}: ${resolved}`);
      else warnings.push(`environment variable ${variable} is not a configuration key (${resolved}); it is ignored`);
      continue;
    }
    // A key the schema types as text keeps the variable's text: `REGISTRY_PROXY_TTL=0` is the
    // duration "0", not the number 0 that YAML would make of it.
    setPath(raw, resolved.path, resolved.leaf?.[Kind] === 'String' ? value : parseScalar(value));
  }
}

/** The key a variable names and its schema (undefined below a free-form or unimplemented key), or why it names none. */
function resolveEnvPath(schema: TSchema, segments: string[]): { path: string[]; leaf: TSchema | undefined } | string {
  const path: string[] = [];
  let node: TSchema | undefined = schema;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!.toLowerCase();
    if (node?.[Kind] === 'Record') {
      path.push(segments.slice(i).join('_'));
      return { path, leaf: undefined };
    }
    // Below a key Berth accepts but does not implement (health, redis, storage.s3, ...) anything
    // goes, as in the file: the key is then reported like the file's (a warning or its own error).
    if (typeof node?.[UNIMPLEMENTED] === 'string') {
      path.push(...segments.slice(i).map((s) => s.toLowerCase()));
      return { path, leaf: undefined };
    }
    const props: Record<string, TSchema> | undefined = node?.[Kind] === 'Object' ? (node.properties as Record<string, TSchema>) : undefined;
    if (!props || !Object.hasOwn(props, segment)) {
      const where = path.length ? path.join('.') : 'the top level';
      const hint = props ? nearest(segment, Object.keys(props)) : undefined;
      return `no key "${segment}" under ${where}${hint ? ` (did you mean ${[...path, hint].join('.')}?)` : ''}`;
    }
    path.push(segment);
    node = props[segment];
  }
  return { path, leaf: node };
}

/** The YAML parser, loaded at first use: a configuration by environment alone needs none
 * (73 modules, ~100 ms of a start; bench/README.md). `yaml` is CommonJS for Node, so `require`
 * loads it synchronously, as loadConfig is. */
let yamlParse: ((text: string) => unknown) | undefined;
function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse(text);
}

/** What YAML's core schema makes of the plainest scalars, without loading the parser. */
export function plainScalar(value: string): { value: unknown } | undefined {
  if (value === 'true') return { value: true };
  if (value === 'false') return { value: false };
  if (/^[-+]?[0-9]{1,15}$/.test(value)) return { value: Number(value) };
  // A word (`error`, `inmemory`) is a string, unless it is one of the core schema's other
  // spellings of null and the booleans.
  if (/^[A-Za-z][A-Za-z0-9_-]*$/.test(value) && !/^(null|Null|NULL|True|TRUE|False|FALSE)$/.test(value)) return { value };
  return undefined;
}

function parseScalar(value: string): unknown {
  const plain = plainScalar(value);
  if (plain) return plain.value;
  try {
    const parsed: unknown = parseYaml(value);
    return parsed === null ? value : parsed;
  } catch {
    return value;
  }
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

function collectUnimplemented(schema: TSchema, value: unknown, prefix: string, out: string[]): void {
  if (typeof value !== 'object' || value === null || schema[Kind] !== 'Object') return;
  const props = schema.properties as Record<string, TSchema>;
  for (const [key, child] of Object.entries(value)) {
    const sub = props[key];
    if (!sub) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof sub[UNIMPLEMENTED] === 'string') out.push(`${path}: ${sub[UNIMPLEMENTED] as string}; the key is ignored`);
    else collectUnimplemented(sub, child, path, out);
  }
}

/**
 * TypeBox reports a value that matches no member of a union only as "Expected union value".
 * Where the members are told apart by `name` (middleware.storage), the value is checked again
 * against the member it names, so the message names the wrong key inside it.
 */
function explain(pointer: string, message: string, tree: Tree): string[] {
  const parts = pointer.split('/').filter(Boolean);
  const schema = schemaAt(parts, tree);
  const value = valueAt(parts, tree);
  if (schema?.[Kind] === 'Union' && typeof value === 'object' && value !== null) {
    const variants = (schema.anyOf as TSchema[]).filter((v) => v[Kind] === 'Object' && (v.properties as Record<string, TSchema>).name?.const !== undefined);
    const names = variants.map((v) => String((v.properties as Record<string, TSchema>).name!.const));
    const name = (value as Tree).name;
    const variant = variantFor(schema, value);
    // The defaults of the member are not applied to a value that matches no member.
    if (variant) return [...Value.Errors(variant, Value.Default(variant, Value.Clone(value)))].map((e) => describe(`${pointer}${e.path}`, e.message, tree));
    if (variants.length > 0) {
      const key = keyOf([...parts, 'name']);
      const hint = typeof name === 'string' ? nearest(name, names) : undefined;
      return [`${key}: must be one of ${names.join(', ')}${hint ? ` (did you mean ${hint}?)` : ''}`];
    }
  }
  return [describe(pointer, message, tree)];
}

/** The schema at a path of the tree: through objects, arrays and name-told unions. */
function schemaAt(parts: string[], tree: Tree): TSchema | undefined {
  let schema: TSchema | undefined = ConfigSchema;
  for (let i = 0; i < parts.length && schema; i++) {
    schema = variantFor(schema, valueAt(parts.slice(0, i), tree));
    if (!schema) return undefined;
    schema = schema[Kind] === 'Array' ? (schema.items as TSchema) : (schema.properties as Record<string, TSchema> | undefined)?.[parts[i]!];
  }
  return schema;
}

/** For a union, the member whose `name` the value carries; any other schema as it is. */
function variantFor(schema: TSchema | undefined, value: unknown): TSchema | undefined {
  if (schema?.[Kind] !== 'Union') return schema;
  const name = typeof value === 'object' && value !== null ? (value as Tree).name : undefined;
  return (schema.anyOf as TSchema[]).find((v) => (v.properties as Record<string, TSchema> | undefined)?.name?.const === name);
}

function valueAt(parts: string[], tree: Tree): unknown {
  let node: unknown = tree;
  for (const p of parts) node = typeof node === 'object' && node !== null ? (node as Tree)[p] : undefined;
  return node;
}

/** `middleware.storage[0].options`, as the operator writes the path. */
function keyOf(parts: string[]): string {
  return parts.map((p, i) => (/^\d+$/.test(p) && i > 0 ? `[${p}]` : `${i > 0 ? '.' : ''}${p}`)).join('');
}

function describe(pointer: string, message: string, tree: Tree): string {
  const parts = pointer.split('/').filter(Boolean);
  const key = keyOf(parts);
  if (/additional|unexpected/i.test(message)) {
    const parentPath = parts.slice(0, -1);
    const schema = variantFor(schemaAt(parentPath, tree), valueAt(parentPath, tree));
    const properties = (schema?.properties as Record<string, TSchema> | undefined) ?? {};
    const word = parts[parts.length - 1] ?? '';
    const hint = Object.keys(properties).find((k) => (properties[k]![MISNAMED] as string[] | undefined)?.includes(word.toLowerCase()))
      ?? nearest(word, Object.keys(properties));
    const parentKey = key.slice(0, key.length - (parts[parts.length - 1] ?? '').length - 1);
    return `unknown key ${key}${hint ? ` (did you mean ${parentKey ? `${parentKey}.` : ''}${hint}?)` : ''}`;
  }
  return `${key || 'configuration'}: ${message}`;
}

/** Which trust policy each upstream's `verify` names, with the key that names it. */
function upstreamVerifies(proxy: ConfigInput['proxy']): { key: string; policy: string }[] {
  const named = proxy.upstreams.flatMap((u, i) => (u.verify !== undefined ? [{ key: `proxy.upstreams[${i}].verify`, policy: u.verify }] : []));
  return proxy.verify !== undefined ? [...named, { key: 'proxy.verify', policy: proxy.verify }] : named;
}

function checkSemantics(config: ConfigInput, problems: string[]): void {
  if (config.version !== '0.1') problems.push(`version: must be 0.1 (got "${config.version}")`);
  problems.push(...authConfigProblems(config.auth));
  problems.push(...proxyConfigProblems(config.proxy));
  for (const cidr of config.http.trustedproxies) if (!isCidr(cidr)) problems.push(`http.trustedproxies: "${cidr}" is not an address or CIDR`);
  if (config.http.tls) {
    const ciphers = opensslCiphers(config.http.tls.ciphersuites, config.http.tls.minimumtls === 'tls1.3');
    if ('problems' in ciphers) problems.push(...ciphers.problems);
  }
  problems.push(...validationConfigProblems(config.validation));
  problems.push(...replicationConfigProblems(config.replication));
  problems.push(...trustConfigProblems(config.trust, upstreamVerifies(config.proxy)));
  problems.push(...retentionConfigProblems(config.gc.retention.projects, config.meta.index.enabled));
  for (const [key, value] of [
    ['storage.maintenance.uploadpurging.age', config.storage.maintenance.uploadpurging.age],
    ['storage.maintenance.uploadpurging.interval', config.storage.maintenance.uploadpurging.interval],
    ['http.draintimeout', config.http.draintimeout],
    ['http.timeouts.bodyidle', config.http.timeouts.bodyidle],
  ] as const) {
    try {
      parseDuration(value);
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`);
    }
  }
  if (config.http.net === 'tcp') {
    try {
      parseListenAddress(config.http.addr);
    } catch (err) {
      problems.push(`http.addr: ${(err as Error).message}`);
    }
  }
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** `:5000`, `127.0.0.1:5000`, `[::1]:5000`, `localhost:5000`. */
export function parseListenAddress(addr: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`"${addr}" is not HOST:PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
