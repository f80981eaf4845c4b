// The storage lock that keeps two collectors (processes, replicas) from running at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentHolder } from '../../src/registry/lock-holder.js';
import { runBerth } from '../support/cli.js';
import { StorageLock, LockHeldError, GC_LOCK_PATH } from '../../src/gc/lock.js';
import { collectGarbage } from '../../src/gc/collector.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
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
    const driver = new MemoryDriver();
    const registry = new Registry(driver);
    const held = new StorageLock(driver, { owner: 'berth serve on replica-2' });
    await held.acquire();
    await assert.rejects(collectGarbage(registry), /another garbage collection is running \(berth serve on replica-2/);
    await held.release();
    await collectGarbage(registry);
    await assert.rejects(driver.stat(GC_LOCK_PATH), /path not found/);
  });

  describe('held by a process of this machine', () => {
    const holdLock = join(dirname(fileURLToPath(import.meta.url)), 'support', 'hold-lock.js');

    async function startHolder(root: string): Promise<ChildProcess> {
      const child = spawn(process.execPath, [holdLock, root], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.setEncoding('utf8');
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (c: string) => { out += c; if (out.includes('held')) resolve(); });
        child.once('exit', (code) => reject(new Error(`lock holder exited ${code} before taking the lock`)));
      });
      return child;
    }

    async function kill9(child: ChildProcess): Promise<void> {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }

    it('is refused while the holder runs, and taken over at once after kill -9 (no lease wait)', async () => {
      const root = await mkdtemp(join(tmpdir(), 'berth-gc-lock-'));
      const child = await startHolder(root);
      try {
        const lock = new StorageLock(new FilesystemDriver(root), { owner: 'next' });
        await assert.rejects(lock.acquire(), (err: unknown) => err instanceof LockHeldError && /doomed collector/.test(err.message));
        await kill9(child);
        // The dead holder's lease (a minute) has not run out: only its death frees the lock.
        const held = await lock.read();
        assert.ok(held && Date.parse(held.expiresAt) > Date.now() + 10_000, 'lease still running');
        await lock.acquire();
        assert.equal(await lock.stillHeld(), true);
        await lock.release();
      } finally {
        child.kill('SIGKILL');
        await rm(root, { recursive: true, force: true });
      }
    });

    it('lets the next `berth gc` run right after the previous one was killed with SIGKILL', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'berth-gc-lock-'));
      const root = join(dir, 'data');
      await mkdir(root);
      const config = join(dir, 'config.yml');
      await writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(root)}\n`);
      const child = await startHolder(root);
      try {
        await kill9(child);
        const res = await runBerth(['gc', '--config', config, '--grace', '0s']);
        assert.equal(res.code, 0, res.stderr);
      } finally {
        child.kill('SIGKILL');
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('is taken over when the pid now belongs to another process (pid reuse), not while it is the holder', async () => {
      const driver = new CheckedDriver(new MemoryDriver());
      const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
      try {
        const here = currentHolder();
        const record = (pidStart: string | undefined) => JSON.stringify({
          owner: 'other', token: `t-${pidStart}`, acquiredAt: new Date().toISOString(),
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          holder: { ...here, pid: sleeper.pid, pidStart },
        });
        const lock = new StorageLock(driver, { owner: 'next' });
        const { readFileSync } = await import('node:fs');
        const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
        const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
        await driver.putContent(GC_LOCK_PATH, record(start));
        await assert.rejects(lock.acquire(), LockHeldError);
        await driver.putContent(GC_LOCK_PATH, record('1'));
        await lock.acquire();
        await lock.release();
        // Another machine's holder is never judged from here: only its lease ends it.
        await driver.putContent(GC_LOCK_PATH, JSON.stringify({
          owner: 'elsewhere', token: 'x', acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          holder: { ...here, host: `${hostname()}-other`, pid: 999_999_999 },
        }));
        await assert.rejects(lock.acquire(), LockHeldError);
      } finally {
        sleeper.kill('SIGKILL');
      }
    });
  });
});
