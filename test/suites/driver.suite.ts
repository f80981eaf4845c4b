// The one behavioural suite for the StorageDriver contract (src/storage/driver.ts). Every driver's
// test file builds an instance and calls driverSuite(); nothing here knows a concrete driver.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { canCreateExclusive, hasPendingWrites, PathNotFoundError, writtenSize, type StorageDriver } from '../../src/storage/driver.js';

export interface DriverFixture {
  driver: StorageDriver;
  cleanup: () => Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function isNotFound(err: unknown): boolean {
  return err instanceof PathNotFoundError;
}

/** What an aborted call rejects with: Node's, the DOM's and the AWS SDK's AbortError alike. */
function isAbort(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'AbortError';
}

const sorted = (xs: string[]) => [...xs].sort();
const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function driverSuite(name: string, makeDriver: () => Promise<DriverFixture>): void {
  describe(`storage driver contract: ${name}`, () => {
    let d: StorageDriver;
    let fixture: DriverFixture;

    beforeEach(async () => {
      fixture = await makeDriver();
      d = fixture.driver;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('getContent and putContent', () => {
      it('reads back exactly the bytes that were put', async () => {
        const data = randomBytes(10_000);
        await d.putContent('/a/b/file', data);
        assert.deepEqual(await d.getContent('/a/b/file'), data);
      });

      it('stores a string as its UTF-8 bytes', async () => {
        await d.putContent('/text', 'héllo ✓');
        assert.deepEqual(await d.getContent('/text'), Buffer.from('héllo ✓', 'utf8'));
      });

      it('stores an empty file', async () => {
        await d.putContent('/empty', new Uint8Array(0));
        assert.equal((await d.getContent('/empty')).length, 0);
        assert.equal((await d.stat('/empty')).size, 0);
      });

      it('overwrites an existing file completely, leaving no tail of the longer old content', async () => {
        await d.putContent('/f', 'a much longer first version');
        await d.putContent('/f', 'short');
        assert.equal((await d.getContent('/f')).toString(), 'short');
        assert.equal((await d.stat('/f')).size, 5);
      });

      it('keeps its own copy: changing the caller\'s buffer afterwards changes nothing', async () => {
        const data = Buffer.from('original');
        await d.putContent('/copy', data);
        data.fill(0x78);
        assert.equal((await d.getContent('/copy')).toString(), 'original');
      });

      it('creates the parent directories of the file', async () => {
        await d.putContent('/x/y/z/file', 'deep');
        assert.equal((await d.stat('/x/y')).isDir, true);
        assert.deepEqual(await d.list('/x/y/z'), ['/x/y/z/file']);
      });

      it('replaces a file atomically: concurrent readers see the old or the new content, never a mix', async () => {
        const a = Buffer.alloc(512 * 1024, 0x61);
        const b = Buffer.alloc(768 * 1024, 0x62);
        await d.putContent('/atomic/f', a);
        const reads: Promise<Buffer>[] = [];
        const writes: Promise<void>[] = [];
        for (let i = 0; i < 20; i++) {
          writes.push(d.putContent('/atomic/f', i % 2 === 0 ? b : a));
          reads.push(d.getContent('/atomic/f'), d.getContent('/atomic/f'));
        }
        await Promise.all(writes);
        for (const got of await Promise.all(reads)) {
          assert.ok(got.equals(a) || got.equals(b), `a read saw ${got.length} bytes that are neither version`);
        }
        assert.deepEqual(await d.list('/atomic'), ['/atomic/f'], 'no temporary files are visible');
      });

      it('rejects with PathNotFoundError for a missing file', async () => {
        await assert.rejects(d.getContent('/missing/file'), isNotFound);
      });

      it('rejects with PathNotFoundError for a directory', async () => {
        await d.putContent('/dir/file', 'x');
        await assert.rejects(d.getContent('/dir'), isNotFound);
      });
    });

    describe('reader', () => {
      const content = Buffer.from('0123456789abcdefghij');
      beforeEach(async () => {
        await d.putContent('/r/file', content);
      });

      it('streams the whole file by default', async () => {
        assert.deepEqual(await readAll(await d.reader('/r/file')), content);
      });

      it('starts at an offset', async () => {
        assert.equal((await readAll(await d.reader('/r/file', { offset: 10 }))).toString(), 'abcdefghij');
      });

      it('reads length bytes from an offset', async () => {
        assert.equal((await readAll(await d.reader('/r/file', { offset: 3, length: 4 }))).toString(), '3456');
      });

      it('stops at the end of the file when length reaches past it', async () => {
        assert.equal((await readAll(await d.reader('/r/file', { offset: 15, length: 100 }))).toString(), 'fghij');
      });

      it('gives an empty stream for length 0', async () => {
        assert.equal((await readAll(await d.reader('/r/file', { offset: 5, length: 0 }))).length, 0);
      });

      it('gives an empty stream at an offset equal to the size', async () => {
        assert.equal((await readAll(await d.reader('/r/file', { offset: content.length }))).length, 0);
      });

      it('reads an empty file as an empty stream', async () => {
        await d.putContent('/r/empty', '');
        assert.equal((await readAll(await d.reader('/r/empty'))).length, 0);
      });

      it('rejects with PathNotFoundError for a missing file', async () => {
        await assert.rejects(d.reader('/r/nope'), isNotFound);
      });

      it('fails the stream when its signal is aborted', async () => {
        const controller = new AbortController();
        const stream = await d.reader('/r/file', { signal: controller.signal });
        controller.abort();
        await assert.rejects(readAll(stream), (err: Error) => err.name === 'AbortError');
      });
    });

    describe('writer', () => {
      it('writes a fresh file whose size counts the bytes written; commit makes it readable', async () => {
        const w = await d.writer('/w/fresh');
        assert.equal(w.size, 0);
        await w.write(Buffer.from('hello '));
        assert.equal(w.size, 6);
        await w.write(new TextEncoder().encode('world'));
        assert.equal(w.size, 11);
        await w.commit();
        assert.equal((await d.getContent('/w/fresh')).toString(), 'hello world');
        assert.equal((await d.stat('/w/fresh')).size, 11);
      });

      it('writes a chunk given as a view into a larger buffer, only the viewed bytes', async () => {
        const backing = Buffer.from('xxxxPAYLOADyyyy');
        const w = await d.writer('/w/view');
        await w.write(new Uint8Array(backing.buffer, backing.byteOffset + 4, 7));
        await w.commit();
        assert.equal((await d.getContent('/w/view')).toString(), 'PAYLOAD');
      });

      it('without append starts an empty file, replacing one that was there', async () => {
        await d.putContent('/w/replace', 'old content');
        const w = await d.writer('/w/replace');
        assert.equal(w.size, 0);
        await w.write(Buffer.from('new'));
        await w.commit();
        assert.equal((await d.getContent('/w/replace')).toString(), 'new');
      });

      it('appends after the existing content, with size counting it', async () => {
        await d.putContent('/w/append', 'abc');
        const w = await d.writer('/w/append', { append: true });
        assert.equal(w.size, 3);
        await w.write(Buffer.from('def'));
        assert.equal(w.size, 6);
        await w.commit();
        assert.equal((await d.getContent('/w/append')).toString(), 'abcdef');
      });

      it('appends to a file that does not exist yet by creating it', async () => {
        const w = await d.writer('/w/new/append', { append: true });
        assert.equal(w.size, 0);
        await w.write(Buffer.from('first'));
        await w.commit();
        assert.equal((await d.getContent('/w/new/append')).toString(), 'first');
      });

      it('keeps the data written before close, so a later append continues it; commit makes it visible', async () => {
        const w1 = await d.writer('/w/resume');
        await w1.write(Buffer.from('part1-'));
        await w1.close();
        assert.equal(await writtenSize(d, '/w/resume'), 6, 'closed data counts, visible or not');
        const w2 = await d.writer('/w/resume', { append: true });
        assert.equal(w2.size, 6);
        await w2.write(Buffer.from('part2'));
        await w2.commit();
        assert.equal((await d.getContent('/w/resume')).toString(), 'part1-part2');
        assert.equal((await d.stat('/w/resume')).size, 11);
        assert.equal(await writtenSize(d, '/w/resume'), 11);
      });

      it('continues closed appends of more than one part each, from new writers, into one file', async () => {
        const chunks = [randomBytes(6 * MiB), randomBytes(3 * MiB), randomBytes(5 * MiB + 7), randomBytes(11 * MiB)];
        for (const chunk of chunks) {
          const w = await d.writer('/w/parts', { append: true });
          for (let i = 0; i < chunk.length; i += 256 * 1024) await w.write(chunk.subarray(i, i + 256 * 1024));
          await w.close();
        }
        const total = chunks.reduce((n, c) => n + c.length, 0);
        assert.equal(await writtenSize(d, '/w/parts'), total);
        const w = await d.writer('/w/parts', { append: true });
        assert.equal(w.size, total);
        await w.commit();
        assert.equal(sha(await d.getContent('/w/parts')), sha(Buffer.concat(chunks)));
      });

      it('an append cancelled after sending parts leaves the closed data to continue', async () => {
        const first = randomBytes(6 * MiB);
        const w1 = await d.writer('/w/cancel-parts', { append: true });
        await w1.write(first);
        await w1.close();
        const w2 = await d.writer('/w/cancel-parts', { append: true });
        for (let i = 0; i < 12; i++) await w2.write(randomBytes(MiB));
        await w2.cancel();
        assert.equal(await writtenSize(d, '/w/cancel-parts'), first.length);
        const last = randomBytes(MiB);
        const w3 = await d.writer('/w/cancel-parts', { append: true });
        assert.equal(w3.size, first.length);
        await w3.write(last);
        await w3.commit();
        assert.equal(sha(await d.getContent('/w/cancel-parts')), sha(Buffer.concat([first, last])));
      });

      it('cancelling an append after close restores the data closed before it', async () => {
        const w1 = await d.writer('/w/restore', { append: true });
        await w1.write(Buffer.from('kept'));
        await w1.close();
        const w2 = await d.writer('/w/restore', { append: true });
        await w2.write(Buffer.from('-dropped'));
        await w2.close();
        await w2.cancel();
        assert.equal(await writtenSize(d, '/w/restore'), 4);
        const w3 = await d.writer('/w/restore', { append: true });
        await w3.commit();
        assert.equal((await d.getContent('/w/restore')).toString(), 'kept');
      });

      it('cancelling an append truncates the file back to its size before the append', async () => {
        const before = randomBytes(1000);
        await d.putContent('/w/cancel-append', before);
        const w = await d.writer('/w/cancel-append', { append: true });
        // More than any sensible write batch, so some of it has certainly reached storage.
        for (let i = 0; i < 8; i++) await w.write(randomBytes(100 * 1024));
        await w.write(Buffer.from('tail'));
        await w.cancel();
        assert.deepEqual(await d.getContent('/w/cancel-append'), before);
        assert.equal((await d.stat('/w/cancel-append')).size, 1000);
      });

      it('cancelling an append after an earlier closed append keeps the earlier data', async () => {
        const w1 = await d.writer('/w/two', { append: true });
        await w1.write(Buffer.from('kept'));
        await w1.close();
        const w2 = await d.writer('/w/two', { append: true });
        await w2.write(Buffer.alloc(300 * 1024, 1));
        await w2.cancel();
        assert.equal(await writtenSize(d, '/w/two'), 4);
        const w3 = await d.writer('/w/two', { append: true });
        await w3.commit();
        assert.equal((await d.getContent('/w/two')).toString(), 'kept');
      });

      it('cancelling an append after close still truncates back (as after a commit whose flush failed)', async () => {
        await d.putContent('/w/closed-append', 'before');
        const w = await d.writer('/w/closed-append', { append: true });
        await w.write(Buffer.from('-discarded'));
        await w.close();
        await w.cancel();
        assert.equal((await d.getContent('/w/closed-append')).toString(), 'before');
        assert.equal(w.size, 6);
      });

      it('cancelling a fresh writer after close still removes the file', async () => {
        const w = await d.writer('/w/closed-fresh');
        await w.write(Buffer.from('discarded'));
        await w.close();
        await w.cancel();
        await assert.rejects(d.stat('/w/closed-fresh'), isNotFound);
        assert.equal(await writtenSize(d, '/w/closed-fresh'), undefined);
      });

      it('cancelling a fresh writer leaves no file behind', async () => {
        const w = await d.writer('/w/gone/file');
        for (let i = 0; i < 5; i++) await w.write(randomBytes(100 * 1024));
        await w.cancel();
        await assert.rejects(d.stat('/w/gone/file'), isNotFound);
        await assert.rejects(d.getContent('/w/gone/file'), isNotFound);
        const siblings = await d.list('/w/gone').catch((err: unknown) => {
          if (isNotFound(err)) return [];
          throw err;
        });
        assert.deepEqual(siblings, []);
      });

      it('cancelling a fresh writer that wrote nothing leaves no file behind', async () => {
        const w = await d.writer('/w/nothing');
        await w.cancel();
        await assert.rejects(d.stat('/w/nothing'), isNotFound);
      });

      it('streams a 20 MiB file in 64 KiB chunks and reads it back identical', async () => {
        const chunkSize = 64 * 1024;
        const total = 20 * 1024 * 1024;
        const pool = randomBytes(1024 * 1024 + chunkSize);
        const expected = createHash('sha256');
        const w = await d.writer('/big/data');
        for (let i = 0; i < total / chunkSize; i++) {
          const start = (i * 7919) % (pool.length - chunkSize);
          const chunk = Buffer.from(pool.subarray(start, start + chunkSize));
          expected.update(chunk);
          await w.write(chunk);
        }
        assert.equal(w.size, total);
        await w.commit();
        assert.equal((await d.stat('/big/data')).size, total);
        const actual = createHash('sha256');
        let size = 0;
        for await (const chunk of await d.reader('/big/data')) {
          actual.update(chunk as Uint8Array);
          size += (chunk as Uint8Array).length;
        }
        assert.equal(size, total);
        assert.equal(actual.digest('hex'), expected.digest('hex'));
        // A range in the middle, spanning chunk boundaries.
        const offset = 5 * chunkSize + 100;
        const part = await readAll(await d.reader('/big/data', { offset, length: 3 * chunkSize }));
        const whole = await d.getContent('/big/data');
        assert.deepEqual(part, whole.subarray(offset, offset + 3 * chunkSize));
      });
    });

    describe('stat', () => {
      it('describes a file: path, size, not a directory, a plausible modTime', async () => {
        const before = Date.now();
        await d.putContent('/s/file', 'twelve bytes');
        const after = Date.now();
        const info = await d.stat('/s/file');
        assert.equal(info.path, '/s/file');
        assert.equal(info.size, 12);
        assert.equal(info.isDir, false);
        assert.ok(info.modTime instanceof Date);
        // Filesystems may round timestamps; allow a couple of seconds either way.
        assert.ok(info.modTime.getTime() >= before - 2000 && info.modTime.getTime() <= after + 2000,
          `modTime ${info.modTime.toISOString()} is not near the write`);
      });

      it('describes a directory that exists because of a file below it', async () => {
        await d.putContent('/s/dir/sub/file', 'x');
        const info = await d.stat('/s/dir');
        assert.equal(info.isDir, true);
        assert.equal(info.path, '/s/dir');
        assert.ok(info.modTime instanceof Date && !Number.isNaN(info.modTime.getTime()));
      });

      it('rejects with PathNotFoundError for a missing path', async () => {
        await assert.rejects(d.stat('/s/missing'), isNotFound);
      });

      it('rejects with PathNotFoundError below a file', async () => {
        await d.putContent('/s/plain', 'x');
        await assert.rejects(d.stat('/s/plain/child'), isNotFound);
      });
    });

    describe('list', () => {
      it('lists the full paths of direct children, files and directories, not deeper ones', async () => {
        await d.putContent('/l/a', '1');
        await d.putContent('/l/b/c', '2');
        await d.putContent('/l/b/d/e', '3');
        await d.putContent('/l/f.txt', '4');
        await d.putContent('/other/x', '5');
        assert.deepEqual(sorted(await d.list('/l')), ['/l/a', '/l/b', '/l/f.txt']);
        assert.deepEqual(sorted(await d.list('/l/b')), ['/l/b/c', '/l/b/d']);
      });

      it('lists the root', async () => {
        await d.putContent('/one/x', '1');
        await d.putContent('/two', '2');
        assert.deepEqual(sorted(await d.list('/')), ['/one', '/two']);
      });

      it('does not confuse a directory with a sibling sharing its prefix', async () => {
        await d.putContent('/p/ab/x', '1');
        await d.putContent('/p/abc/y', '2');
        assert.deepEqual(await d.list('/p/ab'), ['/p/ab/x']);
      });

      it('rejects with PathNotFoundError for a missing directory', async () => {
        await assert.rejects(d.list('/l/missing'), isNotFound);
      });

      it('no longer lists what was deleted', async () => {
        await d.putContent('/l/keep', '1');
        await d.putContent('/l/drop/x', '2');
        await d.delete('/l/drop');
        assert.deepEqual(await d.list('/l'), ['/l/keep']);
      });
    });

    describe('move', () => {
      it('moves a file: the source is gone, the destination has its content', async () => {
        await d.putContent('/m/src', 'payload');
        await d.move('/m/src', '/m/dest');
        assert.equal((await d.getContent('/m/dest')).toString(), 'payload');
        await assert.rejects(d.stat('/m/src'), isNotFound);
      });

      it('replaces an existing destination', async () => {
        await d.putContent('/m/src', 'new');
        await d.putContent('/m/dest', 'old and longer');
        await d.move('/m/src', '/m/dest');
        assert.equal((await d.getContent('/m/dest')).toString(), 'new');
      });

      it('creates the parent directories of the destination', async () => {
        await d.putContent('/m/src', 'x');
        await d.move('/m/src', '/n/o/p/dest');
        assert.equal((await d.getContent('/n/o/p/dest')).toString(), 'x');
        assert.deepEqual(await d.list('/n/o/p'), ['/n/o/p/dest']);
      });

      it('moves a file that a writer committed', async () => {
        const w = await d.writer('/uploads/u1/data');
        await w.write(Buffer.from('blob bytes'));
        await w.commit();
        await d.move('/uploads/u1/data', '/blobs/ab/data');
        assert.equal((await d.getContent('/blobs/ab/data')).toString(), 'blob bytes');
      });

      it('moving a file onto itself keeps it', async () => {
        await d.putContent('/m/self', 'still here');
        await d.move('/m/self', '/m/self');
        assert.equal((await d.getContent('/m/self')).toString(), 'still here');
      });

      it('rejects with PathNotFoundError when the source is missing', async () => {
        await assert.rejects(d.move('/m/none', '/m/dest'), isNotFound);
        await assert.rejects(d.stat('/m/dest'), isNotFound);
      });
    });

    describe('delete', () => {
      it('deletes a file and leaves its siblings', async () => {
        await d.putContent('/del/a', '1');
        await d.putContent('/del/b', '2');
        await d.delete('/del/a');
        await assert.rejects(d.getContent('/del/a'), isNotFound);
        assert.equal((await d.getContent('/del/b')).toString(), '2');
      });

      it('deletes a whole subtree', async () => {
        await d.putContent('/del/tree/a', '1');
        await d.putContent('/del/tree/b/c', '2');
        await d.putContent('/del/tree/b/d/e', '3');
        await d.putContent('/del/treehouse', 'sibling with the same prefix');
        await d.delete('/del/tree');
        await assert.rejects(d.stat('/del/tree'), isNotFound);
        await assert.rejects(d.getContent('/del/tree/b/d/e'), isNotFound);
        assert.equal((await d.getContent('/del/treehouse')).toString(), 'sibling with the same prefix');
      });

      it('rejects with PathNotFoundError when the path is missing', async () => {
        await assert.rejects(d.delete('/del/missing'), isNotFound);
      });

      it('rejects with PathNotFoundError on a second delete', async () => {
        await d.putContent('/del/once', '1');
        await d.delete('/del/once');
        await assert.rejects(d.delete('/del/once'), isNotFound);
      });
    });

    describe('abort signals', () => {
      const aborted = () => AbortSignal.abort();
      beforeEach(async () => {
        await d.putContent('/ab/file', 'kept');
      });

      it('every method rejects on an aborted signal and changes nothing', async () => {
        const signal = aborted();
        await assert.rejects(d.getContent('/ab/file', { signal }), isAbort, 'getContent');
        await assert.rejects(d.putContent('/ab/file', 'replaced', { signal }), isAbort, 'putContent over a file');
        await assert.rejects(d.putContent('/ab/new', 'created', { signal }), isAbort, 'putContent of a new file');
        await assert.rejects(d.reader('/ab/file', { signal }), isAbort, 'reader');
        await assert.rejects(d.writer('/ab/upload', { signal }), isAbort, 'writer');
        await assert.rejects(d.writer('/ab/file', { append: true, signal }), isAbort, 'writer (append)');
        await assert.rejects(d.stat('/ab/file', { signal }), isAbort, 'stat');
        await assert.rejects(d.list('/ab', { signal }), isAbort, 'list');
        await assert.rejects(d.move('/ab/file', '/ab/moved', { signal }), isAbort, 'move');
        await assert.rejects(d.delete('/ab/file', { signal }), isAbort, 'delete');
        if (canCreateExclusive(d)) await assert.rejects(d.createExclusive('/ab/lock', 'x', { signal }), isAbort, 'createExclusive');
        if (hasPendingWrites(d)) await assert.rejects(d.pendingSize('/ab/upload', { signal }), isAbort, 'pendingSize');

        assert.equal((await d.getContent('/ab/file')).toString(), 'kept');
        assert.deepEqual(await d.list('/ab'), ['/ab/file'], 'nothing new, nothing moved, nothing half-written');
      });

      it('a put aborted while it runs leaves the old content or the whole new one, never a part', async () => {
        const big = randomBytes(4 * MiB);
        const controller = new AbortController();
        const put = d.putContent('/ab/file', big, { signal: controller.signal });
        controller.abort();
        const outcome = await put.then(() => 'done', (err: unknown) => (isAbort(err) ? 'aborted' : err));
        const now = await d.getContent('/ab/file');
        if (outcome === 'aborted') assert.equal(now.toString(), 'kept');
        else assert.equal(outcome, 'done');
        assert.ok(now.toString() === 'kept' || now.equals(big), `${now.length} bytes are neither version`);
        assert.deepEqual(await d.list('/ab'), ['/ab/file'], 'no temporary file is left');
      });

      it('a reader whose signal aborts later ends with an AbortError', async () => {
        await d.putContent('/ab/big', randomBytes(2 * MiB));
        const controller = new AbortController();
        const stream = await d.reader('/ab/big', { signal: controller.signal });
        controller.abort();
        await assert.rejects(readAll(stream), isAbort);
      });
    });
  });
}
