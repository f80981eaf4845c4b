// Bearer tokens: verified by signature, issuer, audience and time (verifier.ts), then, for the
// built-in server's tokens, refused once their subject's credential changed (revocation.ts).
// The identity is the token itself: exactly the access its claim lists.
import type { Authentication, Authenticator } from '../authenticator.js';
import type { Credentials } from '../credentials.js';
import type { Subjects } from '../subjects.js';
import type { TokenVerifier } from './verifier.js';

/** The built-in server's tokens: whose subjects and stamps are checked (undefined `issuer`: none are built-in). */
export interface BuiltinTokens { subjects: Subjects; issuer: { options: { issuer: string } } | undefined }

export class BearerTokenAuthenticator implements Authenticator {
  readonly name = 'tokens';

  constructor(private readonly verifier: TokenVerifier, private readonly builtin: BuiltinTokens) {}

  async authenticate(credentials: Credentials): Promise<Authentication | undefined> {
    if (credentials.kind !== 'bearer') return undefined;
    const result = await this.verifier.verify(credentials.token);
    if (!result.ok) return { ok: false, reason: result.reason };
    const revoked = await this.builtin.subjects.revokedReason(this.builtin.issuer?.options.issuer, result);
    if (revoked) return { ok: false, reason: revoked, subject: result.subject };
    return { ok: true, identity: { kind: 'token', name: result.subject, issuer: result.issuer, access: result.access, ...(result.credential !== undefined ? { credential: result.credential } : {}) } };
  }
}
