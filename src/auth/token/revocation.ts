// Revocation of the built-in token server's tokens without a revocation list: each token carries
// a stamp of its subject's credential (a MAC of the stored bcrypt hash under a key derived from
// the signing key). A password change, a user's or robot's removal (and re-creation under the
// same name) or a robot's expiry changes or removes that credential, so every access and refresh
// token issued before it is refused at once, on every replica that shares the signing key.
import { createHash, createHmac } from 'node:crypto';
import type { AccessStore } from '../access-store.js';
import { ANONYMOUS, type Identity } from '../identity.js';
import type { SigningKey } from './keys.js';

/** The claim holding the stamp. */
export const CREDENTIAL_CLAIM = 'berth_cred';

export class CredentialStamps {
  readonly #key: Buffer;

  constructor(key: SigningKey) {
    this.#key = createHash('sha256').update('berth credential stamp\u0000').update(key.privateKey.export({ type: 'pkcs8', format: 'der' })).digest();
  }

  /** Changes whenever the stored hash does; tells nothing about the hash or the password. */
  of(storedHash: string): string {
    return createHmac('sha256', this.#key).update(storedHash).digest('base64url').slice(0, 22);
  }
}

export interface Subject { identity: Identity; stamp: string | undefined }

/** What a token subject names now: the anonymous subject, a user, a robot not expired; undefined when gone. */
export async function currentSubject(store: AccessStore, stamps: CredentialStamps | undefined, subject: string, now = Date.now()): Promise<Subject | undefined> {
  if (subject === '') return { identity: ANONYMOUS, stamp: undefined };
  const robot = await store.robot(subject);
  if (robot) {
    if (robot.expiresAt !== null && Date.parse(robot.expiresAt) <= now) return undefined;
    return { identity: { kind: 'robot', name: robot.name, permissions: robot.permissions }, stamp: stamps?.of(robot.secretHash) };
  }
  const user = await store.user(subject);
  return user ? { identity: { kind: 'user', name: user.name, admin: user.admin }, stamp: stamps?.of(user.passwordHash) } : undefined;
}

/**
 * Why a verified token is no longer good: a built-in token whose subject is gone, or whose
 * subject's credential changed since it was issued. Anonymous tokens name nobody and stay good;
 * an external token server's tokens are its own business.
 */
export async function revokedReason(
  auth: { store: AccessStore; stamps: CredentialStamps | undefined; issuer: { options: { issuer: string } } | undefined },
  token: { subject: string; issuer: string; credential?: string },
): Promise<string | undefined> {
  if (!auth.issuer || !auth.stamps || token.issuer !== auth.issuer.options.issuer || token.subject === '') return undefined;
  const now = await currentSubject(auth.store, auth.stamps, token.subject);
  if (!now) return 'token revoked: its subject no longer exists';
  if (now.stamp === undefined || now.stamp !== token.credential) return 'token revoked: its subject\'s credentials changed';
  return undefined;
}
