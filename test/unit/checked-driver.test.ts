// CheckedDriver keeps every path outside Distribution's grammar, and every negative offset,
// away from the driver it wraps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { CheckedDriver } from '../../src/storage/checked-driver.js';
import {
  canCreateExclusive, hasPendingWrites, InvalidOffsetError, InvalidPathError, isValidPath,
  type FileInfo, type FileWriter, type StorageDriver,
} from '../../src/storage/driver.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';

/** Records every call; answers harmlessly. */
class SpyDriver implements StorageDriver {
  readonly name = 'spy';
  readonly calls: string[] = [];
  async getContent(path: string): Promise<Buffer> { this.calls.push(`getContent ${path}`); return Buffer.alloc(0); }
  async putContent(path: string): Promise<void> { this.calls.push(`putContent ${path}`); }
  async reader(path: string): Promise<Readable> { this.calls.push(`reader ${path}`); return Readable.from([]); }
  async writer(path: string): Promise<FileWriter> {
    this.calls.push(`writer ${path}`);
    return { size: 0, write: async () => {}, commit: async () => {}, cancel: async () => {}, close: async () => {} };
  }
  async stat(path: string): Promise<FileInfo> { this.calls.push(`stat ${path}`); return { path, size: 0, modTime: new Date(), isDir: false }; }
  async list(path: string): Promise<string[]> { this.calls.push(`list ${path}`); return []; }
  async move(source: string, dest: string): Promise<void> { this.calls.push(`move ${source} ${dest}`); }
  async delete(path: string): Promise<void> { this.calls.push(`delete ${path}`); }
}

const BAD_PATHS = [
  '', '..', '/..', '/a/..', '/a/../b', '/./a', '/a/.', 'relative', 'a/b', '/a//b', '/a/', '//',
  '/a b', '/a\\b', '/a\nb', '/a\0b', '/a:b', '/a?b', '/a*b', '/é', '/a/%2e%2e',
];

const METHODS: Array<[string, (d: StorageDriver, p: string) => Promise<unknown>]> = [
  ['getContent', (d, p) => d.getContent(p)],
  ['putContent', (d, p) => d.putContent(p, 'x')],
  ['reader', (d, p) => d.reader(p)],
  ['writer', (d, p) => d.writer(p, { append: true })],
  ['stat', (d, p) => d.stat(p)],
  ['list', (d, p) => d.list(p)],
  ['move (source)', (d, p) => d.move(p, '/ok/dest')],
  ['move (destination)', (d, p) => d.move('/ok/source', p)],
  ['delete', (d, p) => d.delete(p)],
];

describe('CheckedDriver', () => {
  for (const [method, call] of METHODS) {
    it(`${method} rejects every path outside the grammar before the inner driver is called`, async () => {
      const spy = new SpyDriver();
      const checked = new CheckedDriver(spy);
      for (const path of BAD_PATHS) {
        if (method === 'list' && path === '/') continue;
        await assert.rejects(async () => call(checked, path), (err: unknown) => err instanceof InvalidPathError && err.path === path,
          `${method}(${JSON.stringify(path)})`);
      }
      assert.deepEqual(spy.calls, []);
    });
  }

  it('returns a rejected promise (it does not throw synchronously) for a bad path', async () => {
    const checked = new CheckedDriver(new SpyDriver());
    let promise: Promise<unknown> | undefined;
    assert.doesNotThrow(() => { promise = checked.getContent('/a/../b'); });
    await assert.rejects(promise!, InvalidPathError);
  });

  it('passes valid paths through to the inner driver unchanged', async () => {
    const spy = new SpyDriver();
    const checked = new CheckedDriver(spy);
    const path = '/docker/registry/v2/blobs/sha256/ab/abcdef/data';
    await checked.getContent(path);
    await checked.putContent('/a/b.c_d-e', 'x');
    await checked.stat('/x');
    await checked.list('/');
    await checked.list('/docker');
    await checked.move('/from/x', '/to/y');
    await checked.delete('/a');
    await checked.writer('/_uploads/1/data');
    await checked.reader('/r', { offset: 0, length: 0 });
    assert.deepEqual(spy.calls, [
      `getContent ${path}`, 'putContent /a/b.c_d-e', 'stat /x', 'list /', 'list /docker',
      'move /from/x /to/y', 'delete /a', 'writer /_uploads/1/data', 'reader /r',
    ]);
    assert.equal(checked.name, 'spy');
  });

  it('rejects negative, fractional and non-finite offsets and lengths with InvalidOffsetError', async () => {
    const spy = new SpyDriver();
    const checked = new CheckedDriver(spy);
    for (const options of [
      { offset: -1 }, { offset: 1.5 }, { offset: Number.NaN }, { offset: Number.POSITIVE_INFINITY },
      { offset: 0, length: -1 }, { length: 2.5 }, { length: Number.NaN },
    ]) {
      await assert.rejects(async () => checked.reader('/valid/path', options), InvalidOffsetError, JSON.stringify(options));
    }
    assert.deepEqual(spy.calls, []);
  });

  it('agrees with isValidPath on what the grammar allows', () => {
    for (const p of BAD_PATHS) assert.equal(isValidPath(p), false, JSON.stringify(p));
    for (const p of ['/a', '/a/b', '/a.b/c_d/e-f', '/_uploads', '/a..b', '/.hidden']) {
      assert.equal(isValidPath(p), true, p);
    }
  });

  it('checks the paths of optional capabilities too, which it offers exactly when the driver has them', async () => {
    const checked = new CheckedDriver(new MemoryDriver());
    assert.ok(canCreateExclusive(checked), 'the GC lock finds createExclusive through the check');
    assert.ok(!hasPendingWrites(checked), 'and no capability the driver lacks');
    await assert.rejects(checked.createExclusive('/a/../lock', 'x'), InvalidPathError);
    assert.equal(await checked.createExclusive('/lock', 'x'), true);
    assert.ok(!canCreateExclusive(new CheckedDriver(new SpyDriver())));
  });

  it('tags a driver failure with the call that failed, keeping its class, code and message', async () => {
    const failing = new SpyDriver();
    const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    failing.getContent = async () => { throw eio; };
    const checked = new CheckedDriver(new CheckedDriver(failing));
    const err = await checked.getContent('/docker/x').then(() => undefined, (e: unknown) => e);
    assert.equal(err, eio);
    assert.equal((err as NodeJS.ErrnoException).code, 'EIO');
    assert.deepEqual((err as { storageCall?: unknown }).storageCall, { driver: 'spy', action: 'GetContent', paths: ['/docker/x'] });
    const missing = await new CheckedDriver(new MemoryDriver()).getContent('/nope').then(() => undefined, (e: unknown) => e);
    assert.ok(!Object.hasOwn(missing as object, 'storageCall'), 'a not-found answer is not a failure');
  });
});
