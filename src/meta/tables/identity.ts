// Identity tables: personal access tokens (stored as a SHA-256 of their secret, never the secret)
// and the users an external directory (LDAP, OpenID Connect) signed in, with the roles their
// groups gave them at that sign-in, so that their tokens can be judged between sign-ins.
export interface IdentityTables {
  auth_access_tokens: {
    /** The public part of the token, also in the token text. */
    id: string;
    /** The user (database, LDAP or OIDC) the token acts for. */
    owner: string;
    name: string;
    /** hex SHA-256 of the secret part. */
    secret_hash: string;
    /** JSON array of { project ('*' for all), actions }. */
    scopes: string;
    expires_at: string | null;
    created_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
  };
  auth_external_users: {
    name: string;
    /** ldap or oidc */
    source: string;
    admin: number;
    /** JSON array of { project, role } from group mapping. */
    roles: string;
    seen_at: string;
  };
}
