// Users, projects, members and robot accounts in the metadata database. Secrets are stored as
// bcrypt hashes only; nothing here ever returns one to a caller that prints.
import type { Kysely } from 'kysely';
import type { ErrorCode } from '../errors/index.js';
import type { MetaTables } from '../meta/tables/index.js';
import { hashSecret } from './passwords.js';
import { isRole, REPOSITORY_ACTIONS, type Role } from './roles.js';

export interface User { name: string; admin: boolean; createdAt: string }
export interface Project { name: string; public: boolean; allowFrom: string[]; createdAt: string }
export interface Member { project: string; user: string; role: Role }
export interface RobotPermission { project: string; actions: string[] }
export interface Robot { name: string; permissions: RobotPermission[]; expiresAt: string | null; createdAt: string }

/** What a refused change of the store is, as a code of the error table: bad input, a clash, or nothing to change. */
export type AccessStoreErrorCode = Extract<ErrorCode, 'INVALID' | 'CONFLICT' | 'NOT_FOUND'>;

export class AccessStoreError extends Error {
  constructor(readonly code: AccessStoreErrorCode, message: string) { super(message); }
}
/** A change that would leave the registry without a system administrator (nobody could manage it). */
export class LastAdminError extends AccessStoreError {
  constructor(message: string) { super('CONFLICT', message); }
}

const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,254}$/;
/** Robot accounts are named `robot$<name>`, as in Harbor, so they never collide with users. */
export const ROBOT_PREFIX = 'robot$';

export class AccessStore {
  constructor(readonly db: Kysely<MetaTables>, private readonly now: () => Date = () => new Date()) {}

  // Users
  async addUser(name: string, password: string, admin = false): Promise<User> {
    if (!USER_NAME.test(name) || name.startsWith(ROBOT_PREFIX)) throw new AccessStoreError('INVALID', `invalid user name "${name}"`);
    if (await this.user(name)) throw new AccessStoreError('CONFLICT', `user ${name} already exists`);
    checkPassword(password);
    const createdAt = this.now().toISOString();
    await this.db.insertInto('auth_users').values({ name, password_hash: await hashSecret(password), admin: admin ? 1 : 0, created_at: createdAt }).execute();
    return { name, admin, createdAt };
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkPassword(password);
    const r = await this.db.updateTable('auth_users').set({ password_hash: await hashSecret(password) }).where('name', '=', name).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new AccessStoreError('NOT_FOUND', `no user ${name}`);
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    if (admin) {
      const r = await this.db.updateTable('auth_users').set({ admin: 1 }).where('name', '=', name).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw new AccessStoreError('NOT_FOUND', `no user ${name}`);
      return;
    }
    await this.#keepingAnAdmin(name, 'demote', async (trx) =>
      Number((await trx.updateTable('auth_users').set({ admin: 0 }).where('name', '=', name)
        .where((eb) => eb.or([eb('admin', '=', 0), eb(otherAdmins(trx, name), '>', 0)])).executeTakeFirst()).numUpdatedRows));
  }

  async removeUser(name: string): Promise<void> {
    await this.#keepingAnAdmin(name, 'remove', async (trx) => {
      const r = await trx.deleteFrom('auth_users').where('name', '=', name)
        .where((eb) => eb.or([eb('admin', '=', 0), eb(otherAdmins(trx, name), '>', 0)])).executeTakeFirst();
      await trx.deleteFrom('auth_members').where('user_name', '=', name).execute();
      return Number(r.numDeletedRows);
    });
  }

  /**
   * Runs a change of `name` that must leave an administrator (`change` answers the rows it
   * changed, 0 when its guard held it back). The administrators' rows are locked first (a row
   * lock on PostgreSQL, the write lock on SQLite), so two concurrent removals of two
   * administrators cannot each see the other one still there.
   */
  async #keepingAnAdmin(name: string, what: 'remove' | 'demote', change: (trx: Kysely<MetaTables>) => Promise<number>): Promise<void> {
    const held = new Error('held back');
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.updateTable('auth_users').set((eb) => ({ admin: eb.ref('admin') })).where('admin', '=', 1).execute();
        // Thrown, so that nothing else the change did (members) is kept either.
        if ((await change(trx)) === 0) throw held;
      });
    } catch (err) {
      if (err === held) await this.#refuse(name, what);
      throw err;
    }
  }

  /** Why a guarded change of `name` changed nothing: no such user, or the last administrator. */
  async #refuse(name: string, what: 'remove' | 'demote'): Promise<never> {
    if (!(await this.user(name))) throw new AccessStoreError('NOT_FOUND', `no user ${name}`);
    throw new LastAdminError(`cannot ${what} ${name}: it is the last system administrator (make another user an administrator first)`);
  }

  async user(name: string): Promise<(User & { passwordHash: string }) | undefined> {
    const row = await this.db.selectFrom('auth_users').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { name: row.name, admin: row.admin === 1, createdAt: row.created_at, passwordHash: row.password_hash };
  }

  async users(): Promise<User[]> {
    const rows = await this.db.selectFrom('auth_users').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, admin: r.admin === 1, createdAt: r.created_at }));
  }

  async countUsers(): Promise<number> {
    const row = await this.db.selectFrom('auth_users').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // Projects
  async addProject(name: string, options: { public?: boolean; allowFrom?: string[] } = {}): Promise<Project> {
    if (!NAME.test(name)) throw new AccessStoreError('INVALID', `invalid project name "${name}" (a repository path component)`);
    if (await this.project(name)) throw new AccessStoreError('CONFLICT', `project ${name} already exists`);
    const project = { name, public: options.public ?? false, allowFrom: options.allowFrom ?? [], createdAt: this.now().toISOString() };
    await this.db.insertInto('auth_projects').values({
      name, public: project.public ? 1 : 0, allow_from: JSON.stringify(project.allowFrom), created_at: project.createdAt,
    }).execute();
    return project;
  }

  async setProject(name: string, changes: { public?: boolean; allowFrom?: string[] }): Promise<void> {
    const set: { public?: number; allow_from?: string } = {};
    if (changes.public !== undefined) set.public = changes.public ? 1 : 0;
    if (changes.allowFrom !== undefined) set.allow_from = JSON.stringify(changes.allowFrom);
    if (Object.keys(set).length === 0) return;
    const r = await this.db.updateTable('auth_projects').set(set).where('name', '=', name).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new AccessStoreError('NOT_FOUND', `no project ${name}`);
  }

  async removeProject(name: string): Promise<void> {
    await this.db.deleteFrom('auth_members').where('project', '=', name).execute();
    const r = await this.db.deleteFrom('auth_projects').where('name', '=', name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new AccessStoreError('NOT_FOUND', `no project ${name}`);
  }

  async project(name: string): Promise<Project | undefined> {
    const row = await this.db.selectFrom('auth_projects').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { name: row.name, public: row.public === 1, allowFrom: JSON.parse(row.allow_from) as string[], createdAt: row.created_at };
  }

  async projects(): Promise<Project[]> {
    const rows = await this.db.selectFrom('auth_projects').selectAll().orderBy('name').execute();
    return rows.map((row) => ({ name: row.name, public: row.public === 1, allowFrom: JSON.parse(row.allow_from) as string[], createdAt: row.created_at }));
  }

  // Members
  async setMember(project: string, user: string, role: Role | null): Promise<void> {
    if (!(await this.project(project))) throw new AccessStoreError('NOT_FOUND', `no project ${project}`);
    if (!(await this.user(user))) throw new AccessStoreError('NOT_FOUND', `no user ${user}`);
    await this.db.deleteFrom('auth_members').where('project', '=', project).where('user_name', '=', user).execute();
    if (role !== null) {
      if (!isRole(role)) throw new AccessStoreError('INVALID', `unknown role ${String(role)}`);
      await this.db.insertInto('auth_members').values({ project, user_name: user, role }).execute();
    }
  }

  async roleOf(project: string, user: string): Promise<Role | undefined> {
    const row = await this.db.selectFrom('auth_members').select('role').where('project', '=', project).where('user_name', '=', user).executeTakeFirst();
    return row && isRole(row.role) ? row.role : undefined;
  }

  async members(project: string): Promise<Member[]> {
    const rows = await this.db.selectFrom('auth_members').selectAll().where('project', '=', project).orderBy('user_name').execute();
    return rows.filter((r) => isRole(r.role)).map((r) => ({ project: r.project, user: r.user_name, role: r.role as Role }));
  }

  // Robots
  async addRobot(name: string, secret: string, permissions: RobotPermission[], expiresAt: Date | null): Promise<Robot> {
    const full = name.startsWith(ROBOT_PREFIX) ? name : `${ROBOT_PREFIX}${name}`;
    if (!NAME.test(full.slice(ROBOT_PREFIX.length))) throw new AccessStoreError('INVALID', `invalid robot name "${name}"`);
    if (await this.robot(full)) throw new AccessStoreError('CONFLICT', `robot ${full} already exists`);
    for (const p of permissions) {
      if (!(await this.project(p.project))) throw new AccessStoreError('NOT_FOUND', `no project ${p.project}`);
      const bad = p.actions.filter((a) => !(REPOSITORY_ACTIONS as readonly string[]).includes(a));
      if (bad.length > 0 || p.actions.length === 0) throw new AccessStoreError('INVALID', `invalid robot actions for ${p.project}: ${p.actions.join(',')}`);
    }
    const robot = { name: full, permissions, expiresAt: expiresAt?.toISOString() ?? null, createdAt: this.now().toISOString() };
    await this.db.insertInto('auth_robots').values({
      name: full, secret_hash: await hashSecret(secret), permissions: JSON.stringify(permissions), expires_at: robot.expiresAt, created_at: robot.createdAt,
    }).execute();
    return robot;
  }

  async removeRobot(name: string): Promise<void> {
    const full = name.startsWith(ROBOT_PREFIX) ? name : `${ROBOT_PREFIX}${name}`;
    const r = await this.db.deleteFrom('auth_robots').where('name', '=', full).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new AccessStoreError('NOT_FOUND', `no robot ${full}`);
  }

  async robot(name: string): Promise<(Robot & { secretHash: string }) | undefined> {
    const row = await this.db.selectFrom('auth_robots').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { ...robotFrom(row), secretHash: row.secret_hash };
  }

  async robots(): Promise<Robot[]> {
    return (await this.db.selectFrom('auth_robots').selectAll().orderBy('name').execute()).map(robotFrom);
  }
}

function otherAdmins(db: Kysely<MetaTables>, name: string) {
  return db.selectFrom('auth_users').select((eb) => eb.fn.countAll<string | number>().as('n')).where('admin', '=', 1).where('name', '!=', name);
}

function robotFrom(row: MetaTables['auth_robots']): Robot {
  return { name: row.name, permissions: JSON.parse(row.permissions) as RobotPermission[], expiresAt: row.expires_at, createdAt: row.created_at };
}

function checkPassword(password: string): void {
  if (password.length < 8) throw new AccessStoreError('INVALID', 'a password needs at least 8 characters');
  if (Buffer.byteLength(password) > 72) throw new AccessStoreError('INVALID', 'a password may have at most 72 bytes (bcrypt\'s limit)');
}
