// Users of an LDAP directory (OpenLDAP, Active Directory). A sign-in searches for the user with
// the service account (the name escaped into the filter), then binds as the user's DN with the
// given password on a fresh connection (never the service account's), then reads the user's
// groups (group search, optionally nested, and/or the user's memberOf) and maps them to project
// roles and system administrator. An empty password is refused before any bind: LDAP treats it
// as an unauthenticated bind, which succeeds. An unknown user costs a bind as well (against a
// DN nobody has), so neither the answer nor the time tells whether the user exists.
// Successful sign-ins are cached by a SHA-256 of name and password for `cache`, and users looked
// up by name (personal access tokens, built-in tokens) likewise: the directory is asked again
// after that, so a user removed from the directory or from a group loses access by then.
import { createHash, randomBytes } from 'node:crypto';
import { Filter, InvalidCredentialsError, type Client, type Entry } from 'ldapts';
import type { LdapConfig } from '../../config/sections/directories.js';
import type { ExternalDirectory } from '../external-users.js';
import type { UserIdentity } from '../identity.js';
import { ExpiringCache } from './expiring-cache.js';
import { GroupMapping } from './group-roles.js';
import { LdapConnector, bindPassword } from './ldap-connection.js';

export type LdapSignIn = { ok: true; identity: UserIdentity; fresh: boolean } | { ok: false };

/** Nested groups are followed this deep at most (a cycle ends earlier: groups are visited once). */
const MAX_NESTING = 10;

interface Found { dn: string; name: string; memberOf: string[] }

export class LdapDirectory implements ExternalDirectory {
  readonly source = 'ldap' as const;
  readonly #connector: LdapConnector;
  readonly #password: string;
  readonly #mapping: GroupMapping;
  readonly #signIns: ExpiringCache<UserIdentity>;
  readonly #users: ExpiringCache<UserIdentity | null>;
  #service: Promise<Client> | undefined;

  constructor(private readonly config: LdapConfig) {
    this.#connector = new LdapConnector(config);
    this.#password = bindPassword(config);
    this.#mapping = new GroupMapping(config.groups, config.admins, normalizeDn);
    this.#signIns = new ExpiringCache(config.cache);
    this.#users = new ExpiringCache(config.cache);
  }

  /** Checks a name and password; throws when the directory cannot answer (not a refusal). */
  async signIn(user: string, password: string): Promise<LdapSignIn> {
    if (password === '' || user === '') return { ok: false };
    const key = createHash('sha256').update(user).update('\0').update(password).digest('base64url');
    const cached = this.#signIns.get(key);
    if (cached) return { ok: true, identity: cached, fresh: false };
    const found = await this.#find(user);
    // An unknown user still costs a bind, against a DN that does not exist.
    const dn = found?.dn ?? `${this.config.uidattribute}=${Filter.escape(`berth-nobody-${randomBytes(8).toString('hex')}`)},${this.config.userbase}`;
    if (!(await this.#binds(dn, password)) || !found) return { ok: false };
    const identity = await this.#identity(found);
    this.#signIns.set(key, identity);
    this.#users.set(identity.name, identity);
    return { ok: true, identity, fresh: true };
  }

  /** Who `name` is in the directory now (through the cache); undefined when it is not there. */
  async lookup(name: string): Promise<UserIdentity | undefined> {
    const cached = this.#users.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const found = await this.#find(name);
    const identity = found ? await this.#identity(found) : undefined;
    this.#users.set(name, identity ?? null);
    return identity;
  }

  /** For /readyz: the service account binds and can read the user base. Throws naming the cause. */
  async check(): Promise<void> {
    await this.#withService((client) => client.search(this.config.userbase, { scope: 'base', attributes: ['1.1'] }));
  }

  async close(): Promise<void> {
    const service = this.#service;
    this.#service = undefined;
    await service?.then((c) => c.unbind()).catch(() => undefined);
  }

  async #find(user: string): Promise<Found | undefined> {
    const filter = substitute(this.config.userfilter, { username: user });
    const attributes = [this.config.uidattribute, ...(this.config.memberattribute ? [this.config.memberattribute] : [])];
    const { searchEntries } = await this.#withService((c) => c.search(this.config.userbase, { scope: 'sub', filter, attributes, sizeLimit: 2 }));
    // Two entries for one name: the filter does not identify users; nobody signs in as either.
    if (searchEntries.length !== 1) return undefined;
    const entry = searchEntries[0]!;
    const name = values(entry, this.config.uidattribute)[0];
    if (name === undefined) return undefined;
    return { dn: entry.dn, name, memberOf: this.config.memberattribute ? values(entry, this.config.memberattribute) : [] };
  }

  /** Whether `password` binds as `dn`, on a connection of its own (closed at once). */
  async #binds(dn: string, password: string): Promise<boolean> {
    const client = await this.#connector.connect();
    try {
      await client.bind(dn, password);
      return true;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return false;
      throw err;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  async #identity(found: Found): Promise<UserIdentity> {
    const groups = [...found.memberOf, ...await this.#searchGroups(found)];
    const { admin, roles } = this.#mapping.grants(groups);
    return { kind: 'user', name: found.name, admin, source: 'ldap', roles };
  }

  /** Groups whose filter matches the user, then (nested) groups whose filter matches those groups. */
  async #searchGroups(found: Found): Promise<string[]> {
    const base = this.config.groupbase;
    if (base === undefined) return [];
    const seen = new Set([normalizeDn(found.dn)]);
    const groups: string[] = [];
    let members = [found.dn];
    for (let depth = 0; depth < MAX_NESTING && members.length > 0; depth++) {
      const next: string[] = [];
      for (const dn of members) {
        const filter = substitute(this.config.groupfilter, { dn, username: found.name });
        const { searchEntries } = await this.#withService((c) => c.search(base, { scope: 'sub', filter, attributes: ['1.1'] }));
        for (const g of searchEntries) {
          if (seen.has(normalizeDn(g.dn))) continue;
          seen.add(normalizeDn(g.dn));
          groups.push(g.dn);
          next.push(g.dn);
        }
      }
      if (!this.config.nestedgroups) break;
      members = next;
    }
    return groups;
  }

  /** Runs `op` on the shared service connection, opening (and binding) it again once if it broke. */
  async #withService<T>(op: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.#service ??= this.#openService();
      const service = this.#service;
      try {
        return await op(await service);
      } catch (err) {
        if (this.#service === service) this.#service = undefined;
        void service.then((c) => c.unbind()).catch(() => undefined);
        if (attempt > 0 || !brokenConnection(err)) throw describe(err, this.config);
      }
    }
  }

  async #openService(): Promise<Client> {
    const client = await this.#connector.connect();
    try {
      await client.bind(this.config.binddn, this.#password);
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw err instanceof InvalidCredentialsError ? new ServiceBindError(this.config.binddn) : err;
    }
    return client;
  }
}

class ServiceBindError extends Error {
  constructor(binddn: string) {
    super(`the service account ${binddn} cannot bind: wrong auth.ldap.bindpassword or binddn`);
  }
}

/** A failure of a connection that was fine before (closed by the server when idle): worth one new connection. */
function brokenConnection(err: unknown): boolean {
  if (err instanceof ServiceBindError) return false;
  const code = (err as NodeJS.ErrnoException).code;
  const message = (err as Error).message ?? '';
  return code === 'ECONNRESET' || code === 'EPIPE' || /closed|socket/i.test(message);
}

function describe(err: unknown, config: LdapConfig): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`LDAP ${config.url}: ${message}`, { cause: err });
}

/** The filter template with each `{key}` replaced by the escaped value. */
function substitute(template: string, vars: Record<string, string>): string {
  let out = template;
  for (const [key, value] of Object.entries(vars)) out = out.split(`{${key}}`).join(Filter.escape(value));
  return out;
}

function values(entry: Entry, attribute: string): string[] {
  // Attribute names are case-insensitive; ldapts keeps the server's spelling.
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

/** One spelling per DN for comparisons: attribute names and values compared case-insensitively, spaces around separators dropped. */
export function normalizeDn(dn: string): string {
  return dn.split(',').map((rdn) => rdn.split('=').map((part) => part.trim()).join('=')).join(',').toLowerCase();
}
