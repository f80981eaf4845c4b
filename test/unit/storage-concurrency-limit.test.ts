// `storage.filesystem.maxthreads` (Distribution: default 100, minimum 25) caps the driver
// operations running at once; it used to be accepted and ignored.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrencyLimit } from '../../src/storage/concurrency-limit.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { createDriver } from '../../src/storage/drivers/registry.js';
import { loadConfig } from '../../src/config/load.js';
import type { FileInfo, IoOptions } from '../../src/storage/driver.js';

/** Stat calls wait until the test lets them go; the driver records how many ran at once. */
class GatedDriver extends MemoryDriver {
  running = 0;
  peak = 0;
  started = 0;
  readonly #gates: Array<() => void> = [];

  override async stat(path: string, options?: IoOptions): Promise<FileInfo> {
    this.started++;
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    await new Promise<void>((resolve) => this.#gates.push(resolve));
    this.running--;
    return { path, size: 0, modTime: new Date(), isDir: options === undefined };
  }

  /** Lets every waiting call finish, and returns how many there were. */
  openGates(): number {
    const gates = this.#gates.splice(0);
    for (const g of gates) g();
    return gates.length;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ConcurrencyLimit', () => {
  it('runs at most N operations at once and runs them all', async () => {
    const inner = new GatedDriver();
    const capped = new ConcurrencyLimit(inner, 25);
    const calls = Array.from({ length: 80 }, (_, i) => capped.stat(`/f${i}`));
    let finished = 0;
    while (finished < 80) {
      await tick();
      assert.ok(inner.running <= 25, `${inner.running} running`);
      finished += inner.openGates();
    }
    await Promise.all(calls);
    assert.equal(inner.peak, 25);
    assert.equal(inner.started, 80);
  });

  it('a caller waiting for a slot gives up on its signal, and its slot is not lost', async () => {
    const inner = new GatedDriver();
    const capped = new ConcurrencyLimit(inner, 1);
    const first = capped.stat('/a');
    const controller = new AbortController();
    const waiting = capped.stat('/b', { signal: controller.signal });
    const third = capped.stat('/c');
    await tick();
    controller.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
    inner.openGates();
    await first;
    await tick();
    assert.equal(inner.openGates(), 1, 'the third call got the slot');
    await third;
    assert.equal(inner.started, 2, 'the abandoned call never reached the driver');
    assert.equal(inner.peak, 1);
  });

  it('the filesystem driver from config is capped at storage.filesystem.maxthreads', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-maxthreads-'));
    try {
      const { config } = loadConfig({ env: { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root, REGISTRY_STORAGE_FILESYSTEM_MAXTHREADS: '30' } });
      assert.equal(config.storage.driver, 'filesystem');
      assert.equal(config.storage.filesystem?.maxthreads, 30);
      const driver = await createDriver(config.storage);
      assert.ok(driver instanceof ConcurrencyLimit);
      assert.equal(driver.name, 'filesystem');
      await driver.putContent('/a/b', 'x');
      assert.equal((await driver.getContent('/a/b')).toString(), 'x');
      assert.throws(() => loadConfig({ env: { REGISTRY_STORAGE_FILESYSTEM_MAXTHREADS: '24' } }), /storage\.filesystem\.maxthreads/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
