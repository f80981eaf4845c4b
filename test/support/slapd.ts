// A throwaway OpenLDAP server (Debian's slapd) for one test file: a slapd.conf in a directory the
// caller owns (mdb database, memberof overlay, TLS with the caller's certificate), listening on
// 127.0.0.1 for ldap:// (StartTLS offered) and ldaps://. No system service, no cn=config. The
// tree is added through the running server (so the memberof overlay sees it) by the root DN,
// which the test also uses to change memberships.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { freePort, stopChild, tail, track } from '../e2e/support/env.js';

export const SUFFIX = 'dc=example,dc=com';
export const ROOT_DN = `cn=root,${SUFFIX}`;
export const ROOT_PASSWORD = 'root-secret';

export interface SlapdTls { caCert: string; cert: string; key: string }

export interface Slapd {
  /** ldap://127.0.0.1:PORT (StartTLS available). */
  url: string;
  /** ldaps://127.0.0.1:PORT. */
  ldapsUrl: string;
  /** Runs `fn` with a client bound as the root DN. */
  asRoot<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  add(dn: string, attributes: Record<string, string | string[]>): Promise<void>;
  /** Adds (`add`) or removes (`delete`) values of one attribute of `dn`. */
  modify(dn: string, operation: 'add' | 'delete', attribute: string, values: string[]): Promise<void>;
  stop(): Promise<void>;
}

function config(dir: string, tls: SlapdTls): string {
  return [
    ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload memberof',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    `TLSCACertificateFile ${tls.caCert}`,
    `TLSCertificateFile ${tls.cert}`,
    `TLSCertificateKeyFile ${tls.key}`,
    'database mdb',
    `suffix "${SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${ROOT_PASSWORD}`,
    `directory ${join(dir, 'data')}`,
    'maxsize 10485760',
    'overlay memberof',
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by * read',
    '',
  ].join('\n');
}

export async function startSlapd(dir: string, tls: SlapdTls): Promise<Slapd> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, config(dir, tls));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [port, tlsPort] = [await freePort(), await freePort()];
    const url = `ldap://127.0.0.1:${port}`;
    const ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;
    const log = tail();
    // -d keeps slapd in the foreground (a child the test owns); 0 logs nothing but errors.
    const child: ChildProcess = track(spawn('slapd', ['-d', '0', '-f', conf, '-h', `${url}/ ${ldapsUrl}/`], { stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout?.on('data', (c: Buffer) => log.push(c));
    child.stderr?.on('data', (c: Buffer) => log.push(c));
    try {
      await waitForBind(url, child, log.text);
      return handle(url, ldapsUrl, child);
    } catch (err) {
      lastError = err;
      await stopChild(child, 'SIGTERM', 2000);
    }
  }
  throw lastError;
}

async function waitForBind(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`slapd exited (${child.exitCode ?? child.signalCode}):\n${logs()}`);
    const client = new Client({ url, connectTimeout: 1000, timeout: 2000 });
    try {
      await client.bind(ROOT_DN, ROOT_PASSWORD);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`slapd did not answer at ${url}: ${String(err)}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}

function handle(url: string, ldapsUrl: string, child: ChildProcess): Slapd {
  const asRoot = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url, timeout: 5000 });
    try {
      await client.bind(ROOT_DN, ROOT_PASSWORD);
      return await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };
  return {
    url, ldapsUrl, asRoot,
    add: (dn, attributes) => asRoot((c) => c.add(dn, attributes)),
    modify: (dn, operation, type, values) => asRoot((c) => c.modify(dn, new Change({ operation, modification: new Attribute({ type, values }) }))),
    stop: () => stopChild(child, 'SIGTERM', 5000),
  };
}

export interface DirectoryPerson { uid: string; password: string }

/**
 * The tree the LDAP tests use: ou=people (users), ou=services (Berth's service account),
 * ou=groups (groupOfNames with `member`; the memberof overlay fills users' `memberOf`).
 */
export async function addTree(slapd: Slapd, people: DirectoryPerson[], groups: Record<string, string[]>, service: DirectoryPerson): Promise<void> {
  await slapd.add(SUFFIX, { objectClass: ['dcObject', 'organization'], dc: 'example', o: 'Example' });
  for (const ou of ['people', 'services', 'groups']) await slapd.add(`ou=${ou},${SUFFIX}`, { objectClass: 'organizationalUnit', ou });
  await slapd.add(`cn=${service.uid},ou=services,${SUFFIX}`, { objectClass: ['organizationalRole', 'simpleSecurityObject'], cn: service.uid, userPassword: service.password });
  for (const p of people) {
    await slapd.add(`uid=${p.uid},ou=people,${SUFFIX}`, {
      objectClass: 'inetOrgPerson', uid: p.uid, cn: p.uid, sn: p.uid, mail: `${p.uid}@example.com`, userPassword: p.password,
    });
  }
  // Groups in the order given, so a group can name one made before it (nesting).
  for (const [cn, members] of Object.entries(groups)) await slapd.add(`cn=${cn},ou=groups,${SUFFIX}`, { objectClass: 'groupOfNames', cn, member: members });
}

export const personDn = (uid: string): string => `uid=${uid},ou=people,${SUFFIX}`;
export const groupDn = (cn: string): string => `cn=${cn},ou=groups,${SUFFIX}`;
