// Revocation of the built-in token server's tokens without a revocation list: each token carries
// a stamp of its subject's credential (a MAC of the stored bcrypt hash under a key derived from
// the signing key). A password change, a user's or robot's removal (and re-creation under the
// same name) or a robot's expiry changes or removes that credential, so every access and refresh
// token issued before it is refused at once, on every replica that shares the signing key.
// What a subject stands for now, and its stamp, is src/auth/subjects.ts.
import { createHash, createHmac } from 'node:crypto';
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
