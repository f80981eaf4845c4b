// A filesystem root on a real, small filesystem (a 4 MiB tmpfs, room for the metadata database, mounted for the test; root
// only) that fills up. A push that runs out of space is answered 507 with an OCI error saying
// storage is full, on a connection that still answers the next request; nothing partial is
// left under the root; /readyz names the disk while it is full and recovers once space is freed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, rmdir, statfs, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { openSocket, parseResponses, head, type RawResponse } from './support/raw-http.js';
import { snapshot, assertUnchanged } from './support/storage-snapshot.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Mounts a 4 MiB tmpfs; false where this process may not mount (not root, no privilege). */
function mountSmallFs(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes `file` until the filesystem refuses, keeping `leave` bytes free (roughly). */
async function fill(file: string, leave = 0): Promise<void> {
  const handle = await open(file, 'a');
  try {
    const chunk = Buffer.alloc(leave > 0 ? 4096 : 512);
    for (;;) {
      const s = await statfs(file);
      if (leave > 0 && s.bavail * s.bsize <= leave) return;
      try {
        await handle.write(chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
        throw err;
      }
    }
  } finally {
    await handle.close();
  }
}

/** One HTTP/1.1 connection, requests sent one after another (keep-alive). */
class Connection {
  #received = Buffer.alloc(0);
  #seen = 0;
  #waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => { this.#received = Buffer.concat([this.#received, c]); this.#wake(); });
    socket.on('close', () => { this.closed = true; this.#wake(); });
    socket.on('error', () => undefined);
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Sends a request and waits for its response; fails if the server closes or stays silent. */
  async request(method: string, path: string, body?: Buffer): Promise<RawResponse> {
    const headers = ['Host: registry', ...(body ? [`Content-Length: ${body.length}`, 'Content-Type: application/octet-stream'] : [])];
    this.socket.write(head(`${method} ${path} HTTP/1.1`, headers));
    if (body) this.socket.write(body);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const responses = parseResponses(this.#received);
      if (responses.length > this.#seen) return responses[this.#seen++]!;
      if (this.closed) throw new Error(`connection closed by the server before answering ${method} ${path}`);
      if (Date.now() > deadline) throw new Error(`no answer to ${method} ${path}`);
      await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 200); });
    }
  }
}

function assertStorageFull(res: RawResponse, label: string): void {
  assert.equal(res.status, 507, `${label}: ${res.status} ${res.body.toString()}`);
  const error = (JSON.parse(res.body.toString()) as { errors: { code: string; message: string }[] }).errors[0]!;
  assert.equal(error.code, 'STORAGE_FULL', label);
  assert.match(error.message, /storage is full/, label);
}

describe('filesystem storage that runs full', () => {
  let dir: string;
  let mounted = false;
  let registry: TestRegistry;
  let root: string;
  let filler: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-diskfull-'));
    mounted = mountSmallFs(dir);
    if (!mounted) return;
    root = join(dir, 'registry');
    filler = join(dir, 'filler');
    registry = await startTestRegistry({
      root,
      // Only fullness itself must fail readiness here, not the default free-space threshold.
      env: { REGISTRY_HEALTH_DISK_MINFREEBYTES: '0' },
    });
  });

  after(async () => {
    if (mounted) {
      await registry?.close();
      execFileSync('umount', [dir]);
    }
    await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
  });

  it('answers 507 STORAGE_FULL on a kept-alive connection, leaves nothing behind, and recovers', async (t) => {
    if (!mounted) {
      t.skip('cannot mount a tmpfs here (needs root)');
      return;
    }
    const conn = new Connection(await openSocket(registry.url));
    // The repository exists before the disk fills, so a refused push must not add anything.
    const small = randomBytes(1000);
    assert.equal((await conn.request('POST', `/v2/full/blobs/uploads/?digest=${sha256(small)}`, small)).status, 201);
    assert.equal((await conn.request('GET', '/readyz')).status, 200);

    // Nearly full: the body runs out of space halfway, with most of it still unread.
    await fill(filler, 256 * 1024);
    const before = await snapshot(root);
    const big = randomBytes(1024 * 1024);
    assertStorageFull(await conn.request('POST', `/v2/full/blobs/uploads/?digest=${sha256(big)}`, big), 'push on a nearly full disk');
    assertStorageFull(await conn.request('POST', `/v2/full/blobs/uploads/?digest=${sha256(big)}`, big), 'second push on the same connection');
    assert.equal((await conn.request('GET', '/v2/')).status, 200, 'the same connection still answers');
    assertUnchanged(before, await snapshot(root), 'pushes refused for lack of space');

    // A chunk that does not fit: refused alike, and the session stays where it was.
    const session = await conn.request('POST', '/v2/full/blobs/uploads/');
    assert.equal(session.status, 202);
    const location = new URL(session.headers.location!, registry.url);
    const uploadPath = `${location.pathname}${location.search}`;
    assertStorageFull(await conn.request('PATCH', uploadPath, big), 'chunk on a nearly full disk');
    const status = await conn.request('GET', uploadPath);
    assert.equal(status.status, 204);
    assert.equal(status.headers.range, '0-0', 'nothing of the refused chunk kept');
    assert.equal((await conn.request('DELETE', uploadPath)).status, 204);
    assertUnchanged(before, await snapshot(root), 'chunk refused for lack of space');

    // Full: not even the upload session can be written.
    await fill(filler);
    assertStorageFull(await conn.request('POST', `/v2/full/blobs/uploads/?digest=${sha256(big)}`, big), 'push on a full disk');
    assertUnchanged(before, await snapshot(root), 'push refused on a full disk');
    const ready = await conn.request('GET', '/readyz');
    assert.equal(ready.status, 503);
    const readiness = JSON.parse(ready.body.toString()) as { failing: string[]; checks: Record<string, { error?: string }> };
    assert.ok(readiness.failing.includes('disk'), `readyz names the disk: ${ready.body.toString()}`);
    assert.match(readiness.checks.disk!.error ?? '', /full/);

    await unlink(filler);
    assert.equal((await conn.request('GET', '/readyz')).status, 200, 'ready again once space is freed');
    assert.equal((await conn.request('POST', `/v2/full/blobs/uploads/?digest=${sha256(big)}`, big)).status, 201);
    const back = await conn.request('GET', `/v2/full/blobs/${sha256(big)}`);
    assert.equal(back.status, 200);
    assert.equal(sha256(back.body), sha256(big));
    conn.socket.destroy();
  });
});
