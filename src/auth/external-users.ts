// Users an external directory (LDAP, OpenID Connect) signed in: the roles their groups gave them
// at their last sign-in, kept so that their personal access tokens can be judged between
// sign-ins, and so that the console can list who has signed in. The directory stays the truth:
// LDAP is asked again (through its cache) whenever it can be.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { GroupRole, UserIdentity } from './identity.js';

export type ExternalSource = NonNullable<UserIdentity['source']>;

export interface ExternalUser { name: string; source: ExternalSource; admin: boolean; roles: GroupRole[]; seenAt: string }

/** A directory of users kept outside the metadata database: who a name is now, or undefined when gone. */
export interface ExternalDirectory {
  readonly source: ExternalSource;
  lookup(name: string): Promise<UserIdentity | undefined>;
}

export class ExternalUserStore {
  constructor(readonly db: Kysely<MetaTables>, private readonly now: () => Date = () => new Date()) {}

  /** Records a successful sign-in with what it proved. */
  async record(identity: UserIdentity): Promise<void> {
    if (!identity.source) return;
    const values = { source: identity.source, admin: identity.admin ? 1 : 0, roles: JSON.stringify(identity.roles ?? []), seen_at: this.now().toISOString() };
    await this.db.insertInto('auth_external_users').values({ name: identity.name, ...values })
      .onConflict((oc) => oc.column('name').doUpdateSet(values)).execute();
  }

  async get(name: string): Promise<ExternalUser | undefined> {
    const row = await this.db.selectFrom('auth_external_users').selectAll().where('name', '=', name).executeTakeFirst();
    return row && externalFrom(row);
  }

  async list(): Promise<ExternalUser[]> {
    return (await this.db.selectFrom('auth_external_users').selectAll().orderBy('name').execute()).map(externalFrom);
  }
}

function externalFrom(row: MetaTables['auth_external_users']): ExternalUser {
  return { name: row.name, source: row.source as ExternalSource, admin: row.admin === 1, roles: JSON.parse(row.roles) as GroupRole[], seenAt: row.seen_at };
}

/** The identity a recorded external user had at its last sign-in. */
export function identityOf(user: ExternalUser): UserIdentity {
  return { kind: 'user', name: user.name, admin: user.admin, source: user.source, roles: user.roles };
}
