// The GC lock, owned by the core (features take it through registry.maintenance.lock()).
// One collector at a time, across processes and replicas: a lock file in the storage itself
// (`_berth/gc/lock`, beside Distribution's directories, which it ignores), holding the owner
// and an expiry. It is taken with an atomic create where the driver can (ExclusiveCreate),
// renewed while the run lasts, and a lock whose expiry has passed (its holder crashed) is taken
// over through a second atomic create named after the stale lock's token, so that of several
// contenders only one wins. A holder that was a process of this same machine and no longer runs
// (kill -9, a crash) is taken over the same way at once, without waiting for its lease.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { StorageDriver } from '../storage/driver.js';
import { canCreateExclusive } from '../storage/driver.js';
import { ROOT } from './layout.js';
import { deleteIfPresent, orUndefined } from './storage-errors.js';
import { currentHolder, isDeadHere, type LockHolder } from './lock-holder.js';

export const GC_LOCK_PATH = `${ROOT}/_berth/gc/lock`;

export interface LockRecord {
  owner: string;
  token: string;
  acquiredAt: string;
  expiresAt: string;
  /** The holding process (absent in locks written by older versions). */
  holder?: LockHolder;
}

/** Short, renewed every third of it while the run lasts: a holder that vanishes frees the lock soon. */
export const DEFAULT_LOCK_TTL_MS = 60_000;

export class LockHeldError extends Error {
  constructor(readonly holder: LockRecord | undefined) {
    super(holder
      ? `another garbage collection is running (${holder.owner}, lock expires ${holder.expiresAt})`
      : 'another garbage collection is running (lock is being written)');
    this.name = 'LockHeldError';
  }
}

export interface LockOptions {
  /** How long a lock lives without renewal. */
  ttlMs?: number;
  owner?: string;
  path?: string;
  now?: () => number;
}

export class StorageLock {
  readonly #driver: StorageDriver;
  readonly #path: string;
  readonly #ttl: number;
  readonly #owner: string;
  readonly #now: () => number;
  #record: LockRecord | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lost = false;

  constructor(driver: StorageDriver, options: LockOptions = {}) {
    this.#driver = driver;
    this.#path = options.path ?? GC_LOCK_PATH;
    this.#ttl = options.ttlMs ?? DEFAULT_LOCK_TTL_MS;
    this.#owner = options.owner ?? `${hostname()} pid ${process.pid}`;
    this.#now = options.now ?? Date.now;
  }

  /** Takes the lock or throws LockHeldError; keeps renewing it until release(). */
  async acquire(): Promise<void> {
    const record = this.#fresh(randomUUID());
    if (!(await this.#create(this.#path, record))) {
      const holder = await this.read();
      const live = Date.parse(holder?.expiresAt ?? '') > this.#now() && !isDeadHere(holder?.holder);
      if (!holder || live) throw new LockHeldError(holder);
      await this.#takeOver(holder, record);
    }
    this.#record = record;
    this.#timer = setInterval(() => void this.#renew(), Math.max(1000, this.#ttl / 3));
    this.#timer.unref();
  }

  /** Whether this process still holds the lock (false once another took it over). */
  async stillHeld(): Promise<boolean> {
    if (this.#lost || !this.#record) return false;
    const current = await this.read();
    return current?.token === this.#record.token;
  }

  async release(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#record && (await this.stillHeld())) await deleteIfPresent(this.#driver.delete(this.#path));
    this.#record = undefined;
  }

  async read(): Promise<LockRecord | undefined> {
    const content = await orUndefined(this.#driver.getContent(this.#path));
    if (!content) return undefined;
    try {
      return JSON.parse(content.toString('utf8')) as LockRecord;
    } catch {
      return undefined;
    }
  }

  async #takeOver(stale: LockRecord, record: LockRecord): Promise<void> {
    const marker = `${this.#path}-takeover-${stale.token.replace(/[^A-Za-z0-9-]/g, '')}`;
    if (!(await this.#create(marker, record))) throw new LockHeldError(stale);
    try {
      // Still the same stale lock? A contender that won before us has replaced it by now.
      if ((await this.read())?.token !== stale.token) throw new LockHeldError(await this.read());
      await deleteIfPresent(this.#driver.delete(this.#path));
      if (!(await this.#create(this.#path, record))) throw new LockHeldError(await this.read());
    } finally {
      await deleteIfPresent(this.#driver.delete(marker));
    }
  }

  async #renew(): Promise<void> {
    if (!this.#record) return;
    try {
      if (!(await this.stillHeld())) {
        this.#lost = true;
        return;
      }
      this.#record = { ...this.#record, expiresAt: new Date(this.#now() + this.#ttl).toISOString() };
      await this.#driver.putContent(this.#path, JSON.stringify(this.#record));
    } catch {
      // A failed renewal is retried at the next tick; the expiry leaves room for two misses.
    }
  }

  #fresh(token: string): LockRecord {
    const now = this.#now();
    return {
      owner: this.#owner, token, holder: currentHolder(),
      acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + this.#ttl).toISOString(),
    };
  }

  /** Atomic where the driver can; otherwise write if absent and read back (best effort). */
  async #create(path: string, record: LockRecord): Promise<boolean> {
    const driver = this.#driver;
    const content = JSON.stringify(record);
    // Every storage wrapper forwards the capability (storage/base.ts): no unwrapping needed.
    if (canCreateExclusive(driver)) return driver.createExclusive(path, content);
    if (await orUndefined(this.#driver.stat(path))) return false;
    await this.#driver.putContent(path, content);
    await new Promise((r) => setTimeout(r, 200));
    const back = await orUndefined(this.#driver.getContent(path));
    return back?.toString('utf8') === content;
  }
}
