// What the subject of a built-in token (access or refresh) stands for now, and the stamp of the
// credential it was issued for (token/revocation.ts). Three kinds of credential are stamped:
//   - a database user's password or a robot's secret: the MAC of its bcrypt hash (as before);
//   - a personal access token: `pat.<id>.<MAC of its hash>`: the token must still be usable;
//   - an external directory's user (LDAP): `ext.<MAC of source and name>`: the directory must
//     still know the user (through its cache), with the groups it has now.
import type { AccessStore } from './access-store.js';
import type { AccessTokenStore } from './access-tokens.js';
import { usable } from './access-tokens.js';
import { ANONYMOUS, type Identity } from './identity.js';
import type { CredentialStamps } from './token/revocation.js';
import type { UserDirectory } from './user-directory.js';

export interface Subject { identity: Identity; stamp: string | undefined }

export interface SubjectSources { tokens?: AccessTokenStore | undefined; users?: UserDirectory | undefined }

export class Subjects {
  constructor(private readonly store: AccessStore, readonly stamps: CredentialStamps | undefined, private readonly sources: SubjectSources = {}) {}

  /** The stamp a built-in token carries for a sign-in that proved `identity` with the stored `hash`. */
  stampFor(identity: Identity, hash: string | undefined): string | undefined {
    if (!this.stamps || hash === undefined) return undefined;
    if (identity.kind === 'pat') return `pat.${identity.tokenId}.${this.stamps.of(hash)}`;
    if (identity.kind === 'user' && identity.source) return `ext.${this.stamps.of(externalHash(identity.source, identity.name))}`;
    return this.stamps.of(hash);
  }

  /** What `subject` names now, given the stamp its token carries; undefined when gone. */
  async current(subject: string, credential?: string, now = Date.now()): Promise<Subject | undefined> {
    if (subject === '') return { identity: ANONYMOUS, stamp: undefined };
    if (credential?.startsWith('pat.')) return this.#token(subject, credential.split('.')[1] ?? '', now);
    if (credential?.startsWith('ext.')) {
      const user = await this.sources.users?.externalUser(subject);
      return user?.source ? { identity: user, stamp: this.stampFor(user, externalHash(user.source, user.name)) } : undefined;
    }
    const robot = await this.store.robot(subject);
    if (robot) {
      if (robot.expiresAt !== null && Date.parse(robot.expiresAt) <= now) return undefined;
      return { identity: { kind: 'robot', name: robot.name, permissions: robot.permissions }, stamp: this.stamps?.of(robot.secretHash) };
    }
    const user = await this.store.user(subject);
    return user ? { identity: { kind: 'user', name: user.name, admin: user.admin }, stamp: this.stamps?.of(user.passwordHash) } : undefined;
  }

  /**
   * Why a verified token is no longer good: a built-in token whose subject is gone, or whose
   * subject's credential changed since it was issued. Anonymous tokens name nobody and stay good;
   * an external token server's tokens are its own business.
   */
  async revokedReason(issuer: string | undefined, token: { subject: string; issuer: string; credential?: string | undefined }): Promise<string | undefined> {
    if (issuer === undefined || !this.stamps || token.issuer !== issuer || token.subject === '') return undefined;
    const now = await this.current(token.subject, token.credential);
    if (!now) return 'token revoked: its subject no longer exists';
    if (now.stamp === undefined || now.stamp !== token.credential) return 'token revoked: its subject\'s credentials changed';
    return undefined;
  }

  async #token(subject: string, id: string, now: number): Promise<Subject | undefined> {
    const token = await this.sources.tokens?.get(id);
    if (!token || token.owner !== subject || !usable(token, now)) return undefined;
    const owner = await this.sources.users?.user(token.owner);
    if (!owner) return undefined;
    const identity: Identity = { kind: 'pat', name: owner.name, tokenId: token.id, scopes: token.scopes, owner };
    return { identity, stamp: this.stampFor(identity, token.hash) };
  }
}

/** The stand-in for a stored hash of an external user: the user has no credential here to change. */
export function externalHash(source: string, name: string): string {
  return `ext:${source}:${name}`;
}
