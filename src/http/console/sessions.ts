// The console's sessions: a browser signs in once and is then known by an HttpOnly,
// SameSite=Strict cookie (Secure, and named __Host-, under TLS) instead of holding a password or
// a token in script-readable storage. A session is a row of the metadata database found by the
// SHA-256 of the cookie's secret; it ends at sign-out, after `maxage`, after `idle` without use,
// and at once when the credential it was started with changes or its account goes (the SHA-256
// of the stored credential hash is kept and compared on every use). Any account kind can hold a
// session: external directories (LDAP, OpenID Connect) pass their identity without a credential
// hash, and it is kept as signed in until the session ends.
// Each session has an anti-forgery token the page sends back in `X-Berth-CSRF` on every change.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { AuthService } from '../../auth/service.js';
import type { Identity } from '../../auth/identity.js';

/** The cookie over plain HTTP, and under TLS (the __Host- prefix: Secure, Path=/, no Domain). */
export const SESSION_COOKIE = 'berth_session';
export const SECURE_SESSION_COOKIE = '__Host-berth_session';
/** The header carrying the session's anti-forgery token on state-changing requests. */
export const CSRF_HEADER = 'x-berth-csrf';

/** A session's last use is written at most this often (not on every request). */
const TOUCH_EVERY_MS = 60_000;

export interface ConsoleSessionOptions {
  /** A session ends this long after it started. */
  maxAgeMs: number;
  /** A session unused this long ends. */
  idleMs: number;
  /** The registry's external URL (http.host) or '': an https one makes the cookie Secure behind a TLS proxy. */
  host: string;
}

export interface ConsoleSession {
  identity: Identity;
  /** The anti-forgery token of this session. */
  csrf: string;
  /** Milliseconds since the epoch: when it ends at the latest. */
  expiresAt: number;
  /** When it ends if unused from now. */
  idleUntil: number;
}

export class ConsoleSessions {
  constructor(private readonly auth: AuthService, readonly options: ConsoleSessionOptions, private readonly now: () => number = Date.now) {}

  /**
   * Starts a session for `identity` and sets its cookie on `reply`. `credentialHash`: the stored
   * hash the sign-in matched (database users and robots), so a later change of it ends the session.
   */
  async start(reply: FastifyReply, identity: Identity, credentialHash?: string): Promise<ConsoleSession> {
    if (identity.kind === 'anonymous') throw new Error('an anonymous caller has no console session');
    const now = this.now();
    const secret = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const expiresAt = now + this.options.maxAgeMs;
    const db = this.auth.meta.db;
    await db.deleteFrom('console_sessions').where('expires_at', '<', now).execute();
    await db.insertInto('console_sessions').values({
      id_hash: sha256(secret), identity: JSON.stringify(identity), credential: credentialHash === undefined ? null : sha256(credentialHash),
      csrf, created_at: now, last_seen_at: now, expires_at: expiresAt,
    }).execute();
    const secure = this.#secure(reply.request);
    reply.header('Set-Cookie', stringifySetCookie({
      name: secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, value: secret,
      httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: Math.floor(this.options.maxAgeMs / 1000),
    }));
    return { identity, csrf, expiresAt, idleUntil: Math.min(expiresAt, now + this.options.idleMs) };
  }

  /** The live session the request's cookie names, or undefined (no cookie, unknown, ended, revoked). */
  async resolve(req: FastifyRequest): Promise<ConsoleSession | undefined> {
    const secret = cookieSecret(req);
    if (secret === undefined) return undefined;
    const db = this.auth.meta.db;
    const idHash = sha256(secret);
    const row = await db.selectFrom('console_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    if (!row) return undefined;
    const now = this.now();
    const lastSeen = Number(row.last_seen_at);
    const expiresAt = Number(row.expires_at);
    const stored = JSON.parse(row.identity) as Identity;
    const identity = now >= expiresAt || now - lastSeen >= this.options.idleMs ? undefined : await this.#current(stored, row.credential);
    if (!identity) {
      await db.deleteFrom('console_sessions').where('id_hash', '=', idHash).execute();
      return undefined;
    }
    if (now - lastSeen >= TOUCH_EVERY_MS) await db.updateTable('console_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
    return { identity, csrf: row.csrf, expiresAt, idleUntil: Math.min(expiresAt, now + this.options.idleMs) };
  }

  /** Ends the request's session (if any) and clears its cookie. */
  async end(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const secret = cookieSecret(req);
    if (secret !== undefined) await this.auth.meta.db.deleteFrom('console_sessions').where('id_hash', '=', sha256(secret)).execute();
    const secure = this.#secure(req);
    reply.header('Set-Cookie', stringifySetCookie({
      name: secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, value: '', httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: 0,
    }));
  }

  /**
   * The identity a session stands for now: database users and robots are read again (a removed
   * account, a changed password or secret, an expired robot end it; a changed admin flag or
   * permission applies at once). Other kinds are kept as they signed in.
   */
  async #current(stored: Identity, credential: string | null): Promise<Identity | undefined> {
    const store = this.auth.store;
    // A directory's user as the directory sees it now (LDAP through its cache; OpenID Connect as of its last sign-in).
    if (stored.kind === 'user' && stored.source) return this.auth.users.externalUser(stored.name);
    if (stored.kind === 'user' && credential !== null) {
      const user = await store.user(stored.name);
      if (!user || !sameHash(credential, user.passwordHash)) return undefined;
      return { ...stored, admin: user.admin };
    }
    if (stored.kind === 'robot' && credential !== null) {
      const robot = await store.robot(stored.name);
      if (!robot || !sameHash(credential, robot.secretHash)) return undefined;
      if (robot.expiresAt !== null && Date.parse(robot.expiresAt) <= this.now()) return undefined;
      return { ...stored, permissions: robot.permissions };
    }
    return stored;
  }

  #secure(req: FastifyRequest): boolean {
    return req.protocol === 'https' || this.options.host.startsWith('https:');
  }
}

/** Whether the request carries the session's anti-forgery token (compared in constant time). */
export function csrfMatches(req: FastifyRequest, session: ConsoleSession): boolean {
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

const attached = new WeakMap<AuthService, ConsoleSessions>();

/** Makes `sessions` the console sessions of `auth` (done once by the app when the console is on). */
export function attachConsoleSessions(auth: AuthService, sessions: ConsoleSessions): void {
  attached.set(auth, sessions);
}

/** The console sessions of `auth`, when the console is on. */
export function consoleSessionsOf(auth: AuthService): ConsoleSessions | undefined {
  return attached.get(auth);
}

/**
 * Signs `identity` in to the console: starts its session and sets the cookie on `reply`. For any
 * way of signing in (the console's password form, an OpenID Connect callback, ...); pass the
 * stored credential hash the sign-in matched when there is one. Throws when the console is off.
 */
export async function startConsoleSession(auth: AuthService, reply: FastifyReply, identity: Identity, credentialHash?: string): Promise<ConsoleSession> {
  const sessions = attached.get(auth);
  if (!sessions) throw new Error('the console is off (ui.enabled: false): there are no console sessions');
  return sessions.start(reply, identity, credentialHash);
}

function cookieSecret(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  const cookies = parseCookie(header);
  const value = cookies[SECURE_SESSION_COOKIE] ?? cookies[SESSION_COOKIE];
  return value === undefined || value === '' ? undefined : value;
}

function sameHash(storedSha: string, credentialHash: string): boolean {
  const a = Buffer.from(storedSha, 'hex');
  const b = Buffer.from(sha256(credentialHash), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
