// LDAP users signing in with their directory password (Basic, the console's form, the token
// server). Every Basic name the earlier authenticators do not hold gets a verdict here: a wrong
// password and an unknown user are refused alike. A directory that cannot answer refuses too
// (the cause is in the audit reason and the log; /readyz names it), never letting anyone in.
import type { Authentication, Authenticator } from '../authenticator.js';
import type { Credentials } from '../credentials.js';
import type { LdapDirectory } from '../directories/ldap.js';
import { externalHash } from '../subjects.js';

export class LdapAuthenticator implements Authenticator {
  readonly name = 'ldap';

  constructor(private readonly directory: LdapDirectory) {}

  async authenticate(credentials: Credentials): Promise<Authentication | undefined> {
    if (credentials.kind !== 'basic') return undefined;
    let verdict;
    try {
      verdict = await this.directory.signIn(credentials.user, credentials.password);
    } catch (err) {
      return { ok: false, reason: `directory unavailable: ${(err as Error).message}` };
    }
    if (!verdict.ok) return { ok: false, reason: 'invalid' };
    // The stand-in "hash": built-in tokens are stamped `ext.` and judged by the directory later.
    return { ok: true, identity: verdict.identity, hash: externalHash('ldap', verdict.identity.name), directory: verdict.fresh };
  }
}
