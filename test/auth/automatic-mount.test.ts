// POST ?mount=<digest> without `from` (the spec's automatic content discovery): the blob is
// mounted from a repository the caller may pull that holds it; knowing a digest of content the
// caller cannot read gets a plain upload session (202), never the content.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { basic, image, PASSWORD, pushWith, request, seed, startAuthRegistry, type AuthRegistry } from './support.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';

describe('automatic cross-repository mount', () => {
  let reg: AuthRegistry;
  let off: TestRegistry;
  const readable = image();
  const hidden = image();
  before(async () => {
    reg = await startAuthRegistry('basic');
    await seed(reg.store);
    // bob: developer of team; olga: maintainer of other (bob cannot read it).
    assert.equal(await pushWith(reg.url, 'team/base', 'v1', readable, basic('bob', PASSWORD)), 201);
    assert.equal(await pushWith(reg.url, 'other/secret', 'v1', hidden, basic('olga', PASSWORD)), 201);
    off = await startTestRegistry({ configure: (c) => { c.storage.crossmount.automatic = false; } });
    assert.equal(await pushWith(off.url, 'a/base', 'v1', readable, undefined), 201);
  });
  after(async () => {
    await reg.close();
    await off.close();
  });

  const mount = (url: string, repo: string, digest: string, authorization?: string) =>
    request(`${url}/v2/${repo}/blobs/uploads/?mount=${digest}`, { method: 'POST', ...(authorization ? { authorization } : {}) });

  it('mounts from a repository the caller may pull', async () => {
    const res = await mount(reg.url, 'team/copy', readable.layer.digest, basic('bob', PASSWORD));
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), readable.layer.digest);
    const got = await request(`${reg.url}/v2/team/copy/blobs/${readable.layer.digest}`, { authorization: basic('bob', PASSWORD) });
    assert.equal(got.status, 200);
  });

  it('opens an upload instead when only a repository the caller cannot read holds the blob', async () => {
    const res = await mount(reg.url, 'team/steal', hidden.layer.digest, basic('bob', PASSWORD));
    assert.equal(res.status, 202);
    const got = await request(`${reg.url}/v2/team/steal/blobs/${hidden.layer.digest}`, { authorization: basic('bob', PASSWORD) });
    assert.equal(got.status, 404, 'the hidden blob did not become readable');
  });

  it('opens an upload for a blob nobody holds', async () => {
    assert.equal((await mount(reg.url, 'team/x', `sha256:${'0'.repeat(64)}`, basic('bob', PASSWORD))).status, 202);
  });

  it('is off with storage.crossmount.automatic: false', async () => {
    assert.equal((await mount(off.url, 'a/copy', readable.layer.digest)).status, 202);
  });
});
