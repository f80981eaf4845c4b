// Notation's trust policy document (`trustpolicy.json`, Notary Project trust store and trust
// policy specification, version "1.0") read into Berth trust policies, so operators who verify
// with `notation` reuse their files. The document is validated as notation-go validates it, and
// refused at start where Berth could not honour it (identities of plugins). Each statement
// becomes one policy: its scopes naming this registry (one of `registries`) become repository
// names, its verification level a mode, its `ca:` stores the roots the existing Notation verifier
// (notation.ts) chains to, and its `x509.subject` identities are matched as Notation matches them:
// every attribute of the identity's distinguished name present, with that value, in the signing
// certificate's subject (more attributes in the subject are fine).
import { X509Certificate } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificatesFromPem } from './x509-chain.js';

export type NotationLevel = 'strict' | 'permissive' | 'audit' | 'skip';
type Action = 'enforce' | 'log' | 'skip';
type Validation = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';

const LEVELS: Record<NotationLevel, Record<Validation, Action>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};
const STORE_TYPES = ['ca', 'signingAuthority', 'tsa'] as const;
type StoreType = typeof STORE_TYPES[number];

export interface NotationStatement {
  name: string;
  level: NotationLevel;
  /** The level with its `override` applied. */
  actions: Record<Validation, Action>;
  /** Berth's mode: skip -> off; authenticity enforced -> enforce; authenticity logged -> audit. */
  mode: 'off' | 'audit' | 'enforce';
  /** The scopes as written. */
  scopes: string[];
  /** Repositories of this registry the statement covers (`*` for the wildcard statement). */
  repositories: string[];
  wildcard: boolean;
  trustStores: { type: StoreType; name: string }[];
  identities: string[];
}

export class NotationPolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** Reads and validates `path`; problems are thrown as one NotationPolicyError. */
export function readNotationPolicy(path: string, registries: string[]): NotationStatement[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new NotationPolicyError([`cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  return parseNotationPolicy(text, registries);
}

const DOC_KEYS = ['version', 'trustPolicies'];
const STATEMENT_KEYS = ['name', 'registryScopes', 'signatureVerification', 'trustStores', 'trustedIdentities'];
const VERIFICATION_KEYS = ['level', 'override'];
const SCOPE_DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?$/;
const SCOPE_REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-*)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-*)[a-z0-9]+)*)*$/;
const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

/** The statements of a trust policy document, validated; `registries` are the names clients give this registry. */
export function parseNotationPolicy(text: string, registries: string[]): NotationStatement[] {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new NotationPolicyError([`not JSON: ${(err as Error).message}`]);
  }
  if (!isObject(doc)) throw new NotationPolicyError(['not a JSON object']);
  unknownKeys(doc, DOC_KEYS, '', problems);
  if (doc.version !== '1.0') problems.push(`version: ${doc.version === undefined ? 'missing' : JSON.stringify(doc.version)}, and the supported version is "1.0"`);
  if (!Array.isArray(doc.trustPolicies) || doc.trustPolicies.length === 0) {
    problems.push('trustPolicies: the document needs at least one trust policy statement');
    throw new NotationPolicyError(problems);
  }
  const hosts = new Set(registries.map((r) => r.toLowerCase()));
  const statements: NotationStatement[] = [];
  const names = new Set<string>();
  const scopeOwner = new Map<string, string>();
  let wildcardOwner: string | undefined;
  doc.trustPolicies.forEach((raw: unknown, i: number) => {
    const at = `trustPolicies[${i}]`;
    const before = problems.length;
    if (!isObject(raw)) {
      problems.push(`${at}: not a JSON object`);
      return;
    }
    unknownKeys(raw, STATEMENT_KEYS, `${at}.`, problems);
    const name = typeof raw.name === 'string' ? raw.name : '';
    if (name === '') problems.push(`${at}.name: every statement needs a name`);
    else if (names.has(name)) problems.push(`${at}.name: "${name}" is used by another statement; names must be unique`);
    names.add(name);

    const sv = raw.signatureVerification;
    let actions: Record<Validation, Action> | undefined;
    let level: NotationLevel = 'strict';
    if (!isObject(sv)) problems.push(`${at}.signatureVerification: missing (it needs a level)`);
    else {
      unknownKeys(sv, VERIFICATION_KEYS, `${at}.signatureVerification.`, problems);
      if (typeof sv.level !== 'string' || !(sv.level in LEVELS)) {
        problems.push(`${at}.signatureVerification.level: ${JSON.stringify(sv.level)} is not strict, permissive, audit or skip`);
      } else {
        level = sv.level as NotationLevel;
        actions = { ...LEVELS[level] };
        if (sv.override !== undefined) {
          if (!isObject(sv.override)) problems.push(`${at}.signatureVerification.override: not an object`);
          else if (level === 'skip' && Object.keys(sv.override).length > 0) problems.push(`${at}.signatureVerification.override: level skip cannot be customised`);
          else {
            for (const [type, action] of Object.entries(sv.override)) {
              const key = `${at}.signatureVerification.override.${type}`;
              if (!(type in LEVELS.strict)) problems.push(`${key}: not one of integrity, authenticity, authenticTimestamp, expiry, revocation`);
              else if (action !== 'enforce' && action !== 'log' && action !== 'skip') problems.push(`${key}: ${JSON.stringify(action)} is not enforce, log or skip`);
              else if (type === 'integrity') problems.push(`${key}: integrity cannot be overridden`);
              else if (type !== 'revocation' && action === 'skip') problems.push(`${key}: only revocation can be skipped`);
              else actions[type as Validation] = action;
            }
          }
        }
      }
    }

    const scopes = stringArray(raw.registryScopes, `${at}.registryScopes`, problems);
    if (scopes.length === 0) problems.push(`${at}.registryScopes: needs at least one scope`);
    const wildcard = scopes.includes('*');
    if (wildcard && scopes.length > 1) problems.push(`${at}.registryScopes: the wildcard "*" cannot be used with other scopes`);
    if (wildcard) {
      if (wildcardOwner !== undefined) problems.push(`${at}.registryScopes: "*" is also the scope of "${wildcardOwner}"; one scope belongs to one statement`);
      wildcardOwner = name;
    }
    const repositories: string[] = [];
    scopes.forEach((scope, j) => {
      if (scope === '*') return;
      const key = `${at}.registryScopes[${j}]`;
      const slash = scope.indexOf('/');
      const domain = slash === -1 ? '' : scope.slice(0, slash);
      const repository = slash === -1 ? '' : scope.slice(slash + 1);
      if (scope.includes('*')) problems.push(`${key}: "${scope}": a wildcard is only valid as the whole scope "*"`);
      else if (!SCOPE_DOMAIN.test(domain) || !SCOPE_REPOSITORY.test(repository)) problems.push(`${key}: "${scope}" is not REGISTRY/REPOSITORY (no scheme, tag or digest)`);
      const owner = scopeOwner.get(scope);
      if (owner !== undefined) problems.push(`${key}: "${scope}" is also a scope of "${owner}"; one scope belongs to one statement`);
      scopeOwner.set(scope, name);
      // Scopes of other registries are kept in the document for notation's sake and cover nothing here.
      if (hosts.has(domain.toLowerCase())) repositories.push(repository);
    });

    const stores = stringArray(raw.trustStores, `${at}.trustStores`, problems);
    const identities = stringArray(raw.trustedIdentities, `${at}.trustedIdentities`, problems);
    const trustStores: NotationStatement['trustStores'] = [];
    if (level === 'skip' && actions) {
      if (stores.length > 0 || identities.length > 0) problems.push(`${at}: level skip takes no trustStores or trustedIdentities`);
    } else if (actions) {
      if (stores.length === 0) problems.push(`${at}.trustStores: needs at least one trust store`);
      if (identities.length === 0) problems.push(`${at}.trustedIdentities: needs at least one identity (or "*")`);
      stores.forEach((s, j) => {
        const key = `${at}.trustStores[${j}]`;
        const colon = s.indexOf(':');
        const type = s.slice(0, Math.max(colon, 0));
        const storeName = s.slice(colon + 1);
        if (colon === -1) problems.push(`${key}: "${s}" is not TYPE:NAME`);
        else if (!(STORE_TYPES as readonly string[]).includes(type)) problems.push(`${key}: "${s}": the type is not ca, signingAuthority or tsa`);
        else if (!STORE_NAME.test(storeName)) problems.push(`${key}: "${s}": a store name is letters, digits, '.', '_' and '-'`);
        else trustStores.push({ type: type as StoreType, name: storeName });
      });
      if (identities.length > 1 && identities.includes('*')) problems.push(`${at}.trustedIdentities: the wildcard "*" cannot be used with other identities`);
      const parsed: { raw: string; dn: Map<string, string> }[] = [];
      identities.forEach((id, j) => {
        if (id === '*') return;
        const key = `${at}.trustedIdentities[${j}]`;
        const dn = x509SubjectOf(id);
        if (dn === undefined) {
          problems.push(`${key}: "${id}": Berth checks "x509.subject: DN" identities (or "*"); a plugin's identities cannot be honoured`);
          return;
        }
        try {
          parsed.push({ raw: id, dn: parseTrustedDN(dn) });
        } catch (err) {
          problems.push(`${key}: ${(err as Error).message}`);
        }
      });
      for (const a of parsed) {
        const b = parsed.find((o) => o !== a && isSubsetDN(a.dn, o.dn));
        if (b) problems.push(`${at}.trustedIdentities: "${a.raw}" overlaps with "${b.raw}"`);
      }
    }
    if (problems.length > before || !actions) return;
    const mode = level === 'skip' ? 'off' : actions.authenticity === 'enforce' ? 'enforce' : 'audit';
    statements.push({ name, level, actions, mode, scopes, repositories: wildcard ? ['*'] : repositories, wildcard, trustStores, identities });
  });
  if (problems.length > 0) throw new NotationPolicyError([...new Set(problems)]);
  return statements;
}

/**
 * The certificates of the named stores: Notation's layout `<truststore>/x509/<type>/<name>/`,
 * every regular file in it a certificate (PEM, possibly several, or DER), as notation reads it.
 * A missing or empty store fails, as it fails notation's verification.
 */
export function readTrustStore(truststore: string, type: StoreType, name: string): X509Certificate[] {
  const dir = join(truststore, 'x509', type, name);
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (err) {
    throw new Error(`trust store ${type}:${name}: cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const certs: X509Certificate[] = [];
  for (const entry of entries) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (stat.isDirectory()) continue;
    if (!stat.isFile()) throw new Error(`trust store ${type}:${name}: ${path} is not a regular file (notation refuses symbolic links too)`);
    const bytes = readFileSync(path);
    try {
      const text = bytes.toString('latin1');
      if (text.includes('-----BEGIN CERTIFICATE-----')) certs.push(...certificatesFromPem(text));
      else certs.push(new X509Certificate(bytes));
    } catch (err) {
      throw new Error(`trust store ${type}:${name}: ${path} is not a certificate: ${(err as Error).message}`);
    }
  }
  if (certs.length === 0) throw new Error(`trust store ${type}:${name}: ${dir} holds no certificate`);
  return certs;
}

/** The DN of an `x509.subject: DN` identity, or undefined for another kind of identity. */
export function x509SubjectOf(identity: string): string | undefined {
  const colon = identity.indexOf(':');
  if (colon === -1 || identity.slice(0, colon).trim() !== 'x509.subject') return undefined;
  return identity.slice(colon + 1);
}

/** A trusted identity's DN, with Notation's rules: no multi-valued RDNs, no repeats, no `=#`, at least C, ST and O. */
export function parseTrustedDN(dn: string): Map<string, string> {
  if (dn.includes('=#')) throw new Error(`"${dn.trim()}": hex-encoded values ("=#") are not supported`);
  const map = parseDN(dn);
  for (const field of ['C', 'ST', 'O']) if (!map.get(field)) throw new Error(`"${dn.trim()}": a trusted DN names C, ST and O at least (${field} is missing)`);
  return map;
}

/**
 * An RFC 4514 distinguished name (`C=US, ST=WA, O=Acme\, Inc.`): attribute types compared in
 * upper case, values unescaped (`\,` and `\2C` alike) and trimmed, quoted values read whole.
 */
export function parseDN(dn: string): Map<string, string> {
  const map = new Map<string, string>();
  let i = 0;
  const text = dn.trim();
  if (text === '') throw new Error('an empty distinguished name');
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq === -1) throw new Error(`"${text}": "${text.slice(i).trim()}" is not TYPE=VALUE`);
    const type = text.slice(i, eq).trim().toUpperCase();
    if (!/^[A-Z][A-Z0-9-]*$|^[0-9]+(?:\.[0-9]+)+$/.test(type)) throw new Error(`"${text}": "${type}" is not an attribute type`);
    i = eq + 1;
    let value = '';
    let pendingSpaces = '';
    while (i < text.length && text[i] === ' ') i++;
    let end: string | undefined;
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        value += text[i] ?? '';
        i++;
      }
      if (text[i] !== '"') throw new Error(`"${text}": an unclosed quoted value`);
      i++;
      while (i < text.length && text[i] === ' ') i++;
      end = text[i];
      i++;
    } else {
      for (; i < text.length; i++) {
        const ch = text[i]!;
        if (ch === ',' || ch === ';' || ch === '+') {
          end = ch;
          i++;
          break;
        }
        if (ch === '\\') {
          value += pendingSpaces;
          pendingSpaces = '';
          if (/^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
            const run = unhexRun(text, i);
            value += run.value;
            i = run.next - 1;
          } else {
            if (i + 1 >= text.length) throw new Error(`"${text}": a trailing backslash`);
            value += text[i + 1];
            i++;
          }
        } else if (ch === ' ') pendingSpaces += ch;
        else {
          value += pendingSpaces + ch;
          pendingSpaces = '';
        }
      }
    }
    if (end === '+') throw new Error(`"${text}": multi-valued RDNs are not supported`);
    if (end !== undefined && end !== ',' && end !== ';') throw new Error(`"${text}": unexpected "${end}" after a quoted value`);
    if (map.has(type)) throw new Error(`"${text}": ${type} appears twice`);
    map.set(type, value);
    if (end !== undefined && i >= text.length) throw new Error(`"${text}": ends with a separator`);
  }
  return map;
}

/** A run of `\XX` escapes decoded as UTF-8 (a multi-byte character is escaped byte by byte). */
function unhexRun(text: string, start: number): { value: string; next: number } {
  const bytes: number[] = [];
  let i = start;
  while (text[i] === '\\' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
    bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
    i += 3;
  }
  return { value: Buffer.from(bytes).toString('utf8'), next: i };
}

/**
 * The subject of a certificate as attribute -> value, from Node's X509Certificate (one
 * `TYPE=value` line per RDN, values escaped as RFC 2253 says). Undefined when Notation could not
 * read it either: a multi-valued RDN or an attribute given twice.
 */
export function subjectAttributes(cert: X509Certificate): Map<string, string> | undefined {
  const map = new Map<string, string>();
  for (const line of cert.subject.split('\n')) {
    if (line === '') continue;
    try {
      const one = parseDN(line);
      for (const [k, v] of one) {
        if (map.has(k)) return undefined;
        map.set(k, v);
      }
    } catch {
      return undefined;
    }
  }
  return map;
}

/** Every attribute of `a` is in `b` with the same value (notation-go's IsSubsetDN). */
export function isSubsetDN(a: Map<string, string>, b: Map<string, string>): boolean {
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Whether a Notation trusted identity (`*` or `x509.subject: DN`) accepts the signing certificate. */
export function identityAcceptsCertificate(identity: string, leaf: X509Certificate): boolean {
  if (identity === '*') return true;
  const dn = x509SubjectOf(identity);
  if (dn === undefined) return false;
  let wanted: Map<string, string>;
  try {
    wanted = parseDN(dn);
  } catch {
    return false;
  }
  const have = subjectAttributes(leaf);
  return have !== undefined && isSubsetDN(wanted, have);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownKeys(o: Record<string, unknown>, known: string[], at: string, problems: string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`${at}${k}: not a field of a trust policy document (it has ${known.join(', ')})`);
}

function stringArray(v: unknown, key: string, problems: string[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    problems.push(`${key}: not a list of strings`);
    return [];
  }
  return v as string[];
}
