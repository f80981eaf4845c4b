// The storage lock that keeps two collectors (processes, replicas) from running at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageLock, LockHeldError, GC_LOCK_PATH } from '../../src/gc/lock.js';
import { collectGarbage } from '../../src/gc/collector.js';
import { MemoryDriver } from '../../src/storage/drivers/memory.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem.js';
import { CheckedDriver } from '../../src/storage/checked-driver.js';
import { Registry } from '../../src/registry/registry.js';

describe('garbage collection lock', () => {
  it('refuses a second holder until the first releases', async () => {
    const driver = new CheckedDriver(new MemoryDriver());
    const a = new StorageLock(driver, { owner: 'a' });
    const b = new StorageLock(driver, { owner: 'b' });
    await a.acquire();
    await assert.rejects(b.acquire(), (err: unknown) => err instanceof LockHeldError && /\ba\b/.test(err.message));
    await a.release();
    await b.acquire();
    assert.equal(await b.stillHeld(), true);
    await b.release();
  });

  it('holds across processes sharing a directory: only one of many concurrent takers wins', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-gc-lock-'));
    try {
      // Separate driver instances stand for separate processes: nothing shared but the files.
      const locks = Array.from({ length: 8 }, (_, i) => new StorageLock(new FilesystemDriver(root), { owner: `p${i}` }));
      const results = await Promise.allSettled(locks.map((l) => l.acquire()));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const l of locks) await l.release();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('takes over a lock whose holder died (expired), once', async () => {
    const driver = new CheckedDriver(new MemoryDriver());
    const past = () => Date.now() - 3_600_000;
    const dead = new StorageLock(driver, { owner: 'crashed', now: past, ttlMs: 1000 });
    await dead.acquire();
    const contenders = Array.from({ length: 5 }, (_, i) => new StorageLock(driver, { owner: `c${i}` }));
    const results = await Promise.allSettled(contenders.map((l) => l.acquire()));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal(await dead.stillHeld(), false);
    for (const l of [dead, ...contenders]) await l.release();
  });

  it('makes a second collector fail while one runs, and leaves no lock behind', async () => {
    const registry = new Registry(new MemoryDriver());
    const held = new StorageLock(registry.driver, { owner: 'berth serve on replica-2' });
    await held.acquire();
    await assert.rejects(collectGarbage(registry), /another garbage collection is running \(berth serve on replica-2/);
    await held.release();
    await collectGarbage(registry);
    await assert.rejects(registry.driver.stat(GC_LOCK_PATH), /path not found/);
  });
});
