// Access-control tables: users, projects (the first component of a repository name), project
// membership with a role, robot accounts, and the audit log. Booleans are integers (0/1) and
// times ISO-8601 strings, so that SQLite and PostgreSQL store the same thing.
export interface AuthTables {
  auth_users: {
    name: string;
    password_hash: string;
    /** 1 for a system administrator. */
    admin: number;
    created_at: string;
  };
  auth_projects: {
    name: string;
    /** 1: anyone (anonymous included) may pull. */
    public: number;
    /** JSON array of CIDRs allowed to reach this project; '[]' for everyone. */
    allow_from: string;
    created_at: string;
  };
  auth_members: {
    project: string;
    user_name: string;
    role: string;
  };
  auth_robots: {
    name: string;
    secret_hash: string;
    /** JSON array of { project, actions }. */
    permissions: string;
    expires_at: string | null;
    created_at: string;
  };
  auth_audit: {
    id: string;
    at: string;
    actor: string;
    address: string;
    action: string;
    target: string;
    /** JSON object with details, never a secret. */
    detail: string;
  };
}
