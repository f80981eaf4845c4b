// Personal access tokens: what a user gives docker, podman, skopeo or ctr as its password, since
// those cannot sign in through OpenID Connect and should not hold a directory password. Each
// token is `berth_pat_<id>_<secret>`: the id finds the row, the secret is random (256 bits), so a
// SHA-256 of it is stored (a slow hash adds nothing to a secret nobody can guess) and compared in
// constant time. The text is shown once, on creation. Revoked and expired tokens are refused at
// once; the last use is recorded (at most once a minute per token, to spare the database).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import { AccessStoreError } from './access-store.js';
import type { TokenScope } from './identity.js';
import { REPOSITORY_ACTIONS } from './roles.js';

export const TOKEN_PREFIX = 'berth_pat_';
const ID_LENGTH = 16;
const TOUCH_EVERY_MS = 60_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

export interface AccessToken {
  id: string;
  owner: string;
  name: string;
  scopes: TokenScope[];
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The id and secret of a token's text, or undefined when it is not one. */
export function parseAccessToken(text: string): { id: string; secret: string } | undefined {
  if (!text.startsWith(TOKEN_PREFIX)) return undefined;
  const rest = text.slice(TOKEN_PREFIX.length);
  if (rest.length < ID_LENGTH + 2 || rest[ID_LENGTH] !== '_') return undefined;
  return { id: rest.slice(0, ID_LENGTH), secret: rest.slice(ID_LENGTH + 1) };
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Checks a list of scopes: `project:actions` entries naming pull and push only. */
export function checkScopes(scopes: TokenScope[]): TokenScope[] {
  if (scopes.length === 0) throw new AccessStoreError('INVALID', 'a token needs at least one scope (e.g. team:pull or *:pull,push)');
  for (const s of scopes) {
    const bad = s.actions.filter((a) => !(REPOSITORY_ACTIONS as readonly string[]).includes(a));
    if (typeof s.project !== 'string' || s.project === '' || s.actions.length === 0 || bad.length > 0) {
      throw new AccessStoreError('INVALID', `invalid token scope ${String(s.project)}:${s.actions.join(',')} (actions: pull, push, delete)`);
    }
  }
  return scopes;
}

/** `team:pull,push` or `*:pull` as a scope. */
export function parseScopeText(text: string): TokenScope {
  const colon = text.lastIndexOf(':');
  const project = colon < 0 ? text : text.slice(0, colon);
  const actions = colon < 0 ? ['pull'] : text.slice(colon + 1).split(',').map((a) => a.trim()).filter(Boolean);
  return { project, actions: [...new Set(actions)] };
}

export class AccessTokenStore {
  #touched = new Map<string, number>();

  constructor(readonly db: Kysely<MetaTables>, private readonly now: () => Date = () => new Date()) {}

  /** Creates a token for `owner`; the text is returned here only. */
  async create(owner: string, name: string, scopes: TokenScope[], expiresAt: Date | null): Promise<{ token: AccessToken; text: string }> {
    if (!NAME.test(name)) throw new AccessStoreError('INVALID', `invalid token name "${name}" (letters, digits, space . _ -, at most 100)`);
    checkScopes(scopes);
    if (expiresAt && expiresAt.getTime() <= this.now().getTime()) throw new AccessStoreError('INVALID', 'the expiry is in the past');
    const id = randomBytes(ID_LENGTH / 2).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const token: AccessToken = {
      id, owner, name, scopes, expiresAt: expiresAt?.toISOString() ?? null, createdAt: this.now().toISOString(), lastUsedAt: null, revokedAt: null,
    };
    await this.db.insertInto('auth_access_tokens').values({
      id, owner, name, secret_hash: digest(secret).toString('hex'), scopes: JSON.stringify(scopes),
      expires_at: token.expiresAt, created_at: token.createdAt, last_used_at: null, revoked_at: null,
    }).execute();
    return { token, text: `${TOKEN_PREFIX}${id}_${secret}` };
  }

  /** The owner's tokens, newest first (revoked ones too, marked). */
  async list(owner: string): Promise<AccessToken[]> {
    const rows = await this.db.selectFrom('auth_access_tokens').selectAll().where('owner', '=', owner).orderBy('created_at', 'desc').execute();
    return rows.map(tokenFrom);
  }

  /** Revokes one of `owner`'s tokens (an administrator passes undefined: any owner's). */
  async revoke(id: string, owner: string | undefined): Promise<AccessToken> {
    let query = this.db.updateTable('auth_access_tokens').set({ revoked_at: this.now().toISOString() }).where('id', '=', id).where('revoked_at', 'is', null);
    if (owner !== undefined) query = query.where('owner', '=', owner);
    const r = await query.executeTakeFirst();
    const row = await this.db.selectFrom('auth_access_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0 && (!row || (owner !== undefined && row.owner !== owner) || row.revoked_at === null)) {
      throw new AccessStoreError('NOT_FOUND', `no token ${id}`);
    }
    return tokenFrom(row!);
  }

  /**
   * The token whose text this is, with its stored hash (for credential stamps), or why not:
   * `invalid` for an unknown id or a wrong secret alike; `revoked`/`expired` only after the right secret.
   */
  async check(text: string): Promise<{ ok: true; token: AccessToken; hash: string } | { ok: false; reason: 'invalid' | 'revoked' | 'expired' }> {
    const parsed = parseAccessToken(text);
    if (!parsed) return { ok: false, reason: 'invalid' };
    const row = await this.db.selectFrom('auth_access_tokens').selectAll().where('id', '=', parsed.id).executeTakeFirst();
    const presented = digest(parsed.secret);
    // Compared either way, so an unknown id costs what a wrong secret does.
    const stored = row ? Buffer.from(row.secret_hash, 'hex') : Buffer.alloc(presented.length);
    const same = stored.length === presented.length && timingSafeEqual(stored, presented);
    if (!row || !same) return { ok: false, reason: 'invalid' };
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
    if (row.expires_at !== null && Date.parse(row.expires_at) <= this.now().getTime()) return { ok: false, reason: 'expired' };
    await this.#touch(row.id);
    return { ok: true, token: tokenFrom(row), hash: row.secret_hash };
  }

  /** The token `id` as it stands (a revoked or expired one included). */
  async get(id: string): Promise<(AccessToken & { hash: string }) | undefined> {
    const row = await this.db.selectFrom('auth_access_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { ...tokenFrom(row), hash: row.secret_hash };
  }

  async #touch(id: string): Promise<void> {
    const now = this.now();
    if ((this.#touched.get(id) ?? 0) > now.getTime() - TOUCH_EVERY_MS) return;
    if (this.#touched.size > 10_000) this.#touched.clear();
    this.#touched.set(id, now.getTime());
    await this.db.updateTable('auth_access_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', id).execute();
  }
}

/** Whether a token as it stands may still be used. */
export function usable(token: AccessToken, now = Date.now()): boolean {
  return token.revokedAt === null && (token.expiresAt === null || Date.parse(token.expiresAt) > now);
}

function tokenFrom(row: MetaTables['auth_access_tokens']): AccessToken {
  return {
    id: row.id, owner: row.owner, name: row.name, scopes: JSON.parse(row.scopes) as TokenScope[],
    expiresAt: row.expires_at, createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at,
  };
}
