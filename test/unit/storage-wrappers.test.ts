// Property: whatever wrappers are stacked on a driver, in whatever order and how often, every
// optional capability the driver has is still found by its type guard and forwarded to it, and
// none is invented. Before storage/base.ts, CheckedDriver dropped createExclusive and
// InstrumentedDriver dropped the redirects, so the GC lock was atomic only in some orders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import {
  canCreateExclusive, canPresign, canRedirect, hasBucketKeys, hasChunkMinimum, hasPendingWrites, minChunkLengthOf,
  type FileInfo, type FileWriter, type IoOptions, type RedirectRequest, type StorageDriver,
} from '../../src/storage/driver.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { CheckedDriver } from '../../src/storage/checked-driver.js';
import { ConcurrencyLimit } from '../../src/storage/concurrency-limit.js';
import { RedirectingDriver } from '../../src/storage/middleware/redirecting-driver.js';
import { InstrumentedDriver } from '../../src/metrics/instrumented-driver.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { StorageLock } from '../../src/gc/lock.js';

/** A memory driver with every optional capability, counting the capability calls it gets. */
class FullDriver extends MemoryDriver {
  readonly counts = new Map<string, number>();
  readonly signals: Array<AbortSignal | undefined> = [];
  readonly minChunkLength = 7 * 1024 * 1024;

  #count(name: string, options?: IoOptions): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    this.signals.push(options?.signal);
  }

  override async createExclusive(path: string, content: Uint8Array | string, options?: IoOptions): Promise<boolean> {
    this.#count('createExclusive', options);
    return super.createExclusive(path, content, options);
  }

  async pendingSize(path: string, options?: IoOptions): Promise<number | undefined> {
    this.#count('pendingSize', options);
    return path === '/pending' ? 42 : undefined;
  }

  async presignedGetURL(path: string, expiresInSeconds: number, options?: IoOptions): Promise<string> {
    this.#count('presignedGetURL', options);
    return `https://bucket.example${path}?expires=${expiresInSeconds}`;
  }

  async redirectURL(path: string, _request: RedirectRequest, options?: IoOptions): Promise<string | undefined> {
    this.#count('redirectURL', options);
    return `https://driver.example${path}`;
  }

  bucketKey(path: string): string {
    return `root${path}`;
  }
}

/** Only the required methods: no wrapper may make a capability appear. */
class BareDriver implements StorageDriver {
  readonly name = 'bare';
  async getContent(): Promise<Buffer> { return Buffer.alloc(0); }
  async putContent(): Promise<void> {}
  async reader(): Promise<Readable> { return Readable.from([]); }
  async writer(): Promise<FileWriter> { throw new Error('unused'); }
  async stat(path: string): Promise<FileInfo> { return { path, size: 0, modTime: new Date(), isDir: false }; }
  async list(): Promise<string[]> { return []; }
  async move(): Promise<void> {}
  async delete(): Promise<void> {}
}

const middleware = { redirectURL: async (path: string) => `https://cdn.example${path}` };

const WRAPPERS: Record<string, (d: StorageDriver) => StorageDriver> = {
  checked: (d) => new CheckedDriver(d),
  timed: (d) => new InstrumentedDriver(d, createMetrics()),
  capped: (d) => new ConcurrencyLimit(d, 2),
  redirected: (d) => new RedirectingDriver(d, middleware),
};
const NAMES = Object.keys(WRAPPERS);

function permutations<T>(items: T[]): T[][] {
  if (items.length === 0) return [[]];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

/** Every ordered selection of distinct wrappers (65 stacks), then random ones with repeats. */
function stacks(): string[][] {
  const subsets = NAMES.reduce<string[][]>((acc, n) => [...acc, ...acc.map((s) => [...s, n])], [[]]);
  const all = subsets.flatMap((s) => permutations(s));
  let seed = 16;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 40; i++) {
    all.push(Array.from({ length: 2 + Math.floor(random() * 6) }, () => NAMES[Math.floor(random() * NAMES.length)]!));
  }
  return all;
}

const wrap = (driver: StorageDriver, stack: string[]) => stack.reduce((d, n) => WRAPPERS[n]!(d), driver);
const label = (stack: string[]) => (stack.length ? stack.join(' > ') : 'bare driver');

describe('storage wrappers forward every capability in every order', () => {
  for (const stack of stacks()) {
    it(label(stack), async () => {
      const inner = new FullDriver();
      const d = wrap(inner, stack);
      assert.equal(d.name, 'inmemory');
      assert.ok(hasPendingWrites(d) && canCreateExclusive(d) && canPresign(d) && canRedirect(d) && hasChunkMinimum(d) && hasBucketKeys(d));

      const signal = new AbortController().signal;
      assert.equal(await d.pendingSize('/pending', { signal }), 42);
      assert.equal(await d.presignedGetURL('/blob', 60, { signal }), 'https://bucket.example/blob?expires=60');
      assert.equal(minChunkLengthOf(d), 7 * 1024 * 1024);
      assert.equal(d.bucketKey('/blob'), 'root/blob');
      const redirected = stack.includes('redirected');
      assert.equal(await d.redirectURL('/blob', { remoteAddress: '192.0.2.1' }, { signal }),
        redirected ? 'https://cdn.example/blob' : 'https://driver.example/blob');

      // The GC lock's create stays the driver's atomic one: one winner among concurrent takers,
      // and the driver's createExclusive did the work (no read-back fallback).
      const locks = Array.from({ length: 6 }, (_, i) => new StorageLock(d, { owner: `p${i}` }));
      const results = await Promise.allSettled(locks.map((l) => l.acquire()));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal(inner.counts.get('createExclusive'), 6);
      assert.equal(await d.createExclusive('/x', 'a', { signal }), true);
      assert.equal(await d.createExclusive('/x', 'b'), false);

      // Every capability call reached the driver with the caller's signal.
      assert.equal(inner.counts.get('pendingSize'), 1);
      assert.equal(inner.counts.get('presignedGetURL'), 1);
      assert.equal(inner.counts.get('redirectURL'), redirected ? undefined : 1);
      assert.ok(inner.signals.filter((s) => s === signal).length >= (redirected ? 3 : 4));
    });
  }

  it('invents no capability: a bare driver stays bare under every wrapper', () => {
    for (const stack of stacks()) {
      const d = wrap(new BareDriver(), stack.filter((n) => n !== 'redirected'));
      assert.ok(!hasPendingWrites(d) && !canCreateExclusive(d) && !canPresign(d) && !canRedirect(d)
        && !hasChunkMinimum(d) && !hasBucketKeys(d), label(stack));
    }
  });

  it('an aborted signal stops a call in every wrapper before the driver sees it', async () => {
    for (const name of NAMES) {
      const inner = new FullDriver();
      await inner.putContent('/f', 'data');
      const d = WRAPPERS[name]!(inner);
      const signal = AbortSignal.abort();
      await assert.rejects(d.getContent('/f', { signal }), { name: 'AbortError' }, name);
      await assert.rejects(d.putContent('/f', 'new', { signal }), { name: 'AbortError' }, name);
      assert.ok(canCreateExclusive(d));
      await assert.rejects(d.createExclusive('/g', 'x', { signal }), { name: 'AbortError' }, name);
      assert.equal((await inner.getContent('/f')).toString(), 'data');
      assert.equal(inner.counts.get('createExclusive'), undefined);
    }
  });
});
