// The OCI client against a real Berth on 127.0.0.1, directly and behind a front that demands
// Basic credentials or Bearer tokens, or fails with 503 before answering.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { artifact, blob, imageManifest, indexManifest, randomBlob, OCI_INDEX } from '../support/oci-fixtures.js';
import { pushImage, pushManifest, pushBlob } from '../support/push.js';
import { RegistryClient, DigestMismatchError, RegistryResponseError, AuthError, parseChallenges, parseImageReference } from '../../src/client/index.js';
import { startAuthProxy } from './support/auth-proxy.js';

async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('OCI client', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const config = blob('{"architecture":"amd64","os":"linux"}');
  const layer = randomBlob(300_000);
  const image = imageManifest(config, [layer]);

  before(async () => {
    reg = await startTestRegistry();
    client = new RegistryClient({ host: reg.host, plainHttp: true, retries: 0 });
    await pushImage(reg.url, 'lib/app', 'v1', config, [layer], image);
  });
  after(async () => {
    await client.close();
    await reg.close();
  });

  it('pings /v2/', async () => {
    assert.equal((await client.ping()).status, 200);
  });

  it('gets a manifest by tag with its digest and media type, and heads it', async () => {
    const m = await client.getManifest('lib/app', 'v1');
    assert.equal(m.digest, image.digest);
    assert.equal(m.mediaType, image.mediaType);
    assert.deepEqual(m.bytes, image.body);
    const head = await client.headManifest('lib/app', 'v1');
    assert.equal(head?.digest, image.digest);
    assert.equal(await client.headManifest('lib/app', 'nope'), undefined);
  });

  it('streams a blob whole, and a byte range of it', async () => {
    const whole = await client.getBlob('lib/app', layer.digest);
    assert.deepEqual(await drain(whole.stream), layer.data);
    const part = await client.getBlob('lib/app', layer.digest, { range: { start: 100, end: 199 } });
    assert.equal(part.status, 206);
    assert.deepEqual(await drain(part.stream), layer.data.subarray(100, 200));
  });

  it('pushes a blob monolithically and in chunks', async () => {
    const a = randomBlob(70_000);
    await client.pushBlob('push/mono', a, () => Readable.from([a.data]));
    assert.equal(await client.headBlob('push/mono', a.digest), a.size);
    const b = randomBlob(250_000);
    await client.pushBlob('push/chunked', b, () => Readable.from([b.data.subarray(0, 100_000), b.data.subarray(100_000)]), { chunkSize: 64 * 1024 });
    assert.equal(await client.headBlob('push/chunked', b.digest), b.size);
    const back = await client.getBlob('push/chunked', b.digest);
    assert.deepEqual(await drain(back.stream), b.data);
  });

  it('refuses to finish a push whose bytes do not match the digest, leaving nothing behind', async () => {
    const a = randomBlob(10_000);
    const other = randomBlob(10_000);
    for (const chunkSize of [undefined, 4096]) {
      await assert.rejects(client.pushBlob('push/bad', a, () => Readable.from([other.data]), chunkSize ? { chunkSize } : {}), DigestMismatchError);
      assert.equal(await client.headBlob('push/bad', a.digest), undefined);
    }
  });

  it('mounts a blob from another repository', async () => {
    assert.equal(await client.mountBlob('mounted/app', layer.digest, 'lib/app'), true);
    assert.equal(await client.headBlob('mounted/app', layer.digest), layer.size);
    assert.equal(await client.mountBlob('mounted/app', randomBlob(10).digest, 'lib/app'), false);
  });

  it('puts manifests and lists tags page by page', async () => {
    for (const tag of ['a', 'b', 'c', 'd', 'e']) await client.putManifest('lib/app', tag, image.body, image.mediaType);
    const tags = await client.listTags('lib/app', 2);
    assert.deepEqual([...tags].sort(), ['a', 'b', 'c', 'd', 'e', 'v1']);
  });

  it('finds referrers through the referrers API, filtered by artifact type', async () => {
    const sigLayer = blob('signature');
    const sig = artifact(image, 'application/vnd.dev.cosign.artifact.sig.v1+json', sigLayer);
    await pushBlob(reg.url, 'lib/app', sigLayer);
    await pushBlob(reg.url, 'lib/app', blob('{}'));
    await pushManifest(reg.url, 'lib/app', sig.digest, sig);
    const found = await client.referrers('lib/app', image.digest);
    assert.deepEqual(found.map((d) => d.digest), [sig.digest]);
    assert.deepEqual(await client.referrers('lib/app', image.digest, 'other/type'), []);
  });

  it('gets an index and says what kind it is', async () => {
    const idx = indexManifest([image]);
    await pushManifest(reg.url, 'lib/app', 'multi', idx);
    const got = await client.getManifest('lib/app', 'multi');
    assert.equal(got.mediaType, OCI_INDEX);
    assert.equal(got.digest, idx.digest);
  });

  it('reports a missing manifest with its OCI error code', async () => {
    await assert.rejects(client.getManifest('lib/app', 'missing'), (err: unknown) => err instanceof RegistryResponseError && err.status === 404 && err.code === 'MANIFEST_UNKNOWN');
  });

  describe('auth and retries', () => {
    it('answers a Basic challenge with the credentials it finds for the host', async () => {
      const proxy = await startAuthProxy({ upstream: reg.url, mode: 'basic', user: 'alice', password: 'secret' });
      try {
        const c = new RegistryClient({ host: proxy.host, plainHttp: true, credentials: async (host) => (host === proxy.host ? { username: 'alice', password: 'secret' } : undefined) });
        assert.equal((await c.getManifest('lib/app', 'v1')).digest, image.digest);
        const b = randomBlob(5000);
        await c.pushBlob('basic/push', b, () => Readable.from([b.data]));
        assert.equal(await c.headBlob('basic/push', b.digest), b.size);
        await c.close();
        const anon = new RegistryClient({ host: proxy.host, plainHttp: true, retries: 0 });
        await assert.rejects(anon.getManifest('lib/app', 'v1'), (err: unknown) => err instanceof RegistryResponseError && err.status === 401);
        await anon.close();
      } finally {
        await proxy.close();
      }
    });

    it('fetches one Bearer token per scope and reuses it until it expires', async () => {
      const proxy = await startAuthProxy({ upstream: reg.url, mode: 'bearer', user: 'alice', password: 'secret' });
      try {
        const c = new RegistryClient({ host: proxy.host, plainHttp: true, credentials: async () => ({ username: 'alice', password: 'secret' }) });
        for (let i = 0; i < 3; i++) assert.equal((await c.getManifest('lib/app', 'v1')).digest, image.digest);
        await drain((await c.getBlob('lib/app', layer.digest)).stream);
        assert.deepEqual(proxy.tokenRequests, [{ scopes: ['repository:lib/app:pull'], user: 'alice' }]);
        const b = randomBlob(5000);
        await c.pushBlob('bearer/push', b, () => Readable.from([b.data]));
        assert.equal(proxy.tokenRequests.length, 2);
        assert.deepEqual(proxy.tokenRequests[1]!.scopes, ['repository:bearer/push:pull,push']);
        await c.close();
      } finally {
        await proxy.close();
      }
    });

    it('fetches a new token once the old one expired', async () => {
      const proxy = await startAuthProxy({ upstream: reg.url, mode: 'bearer', user: 'alice', password: 'secret', tokenLifetimeSeconds: 1 });
      try {
        const c = new RegistryClient({ host: proxy.host, plainHttp: true, credentials: async () => ({ username: 'alice', password: 'secret' }) });
        await c.getManifest('lib/app', 'v1');
        await new Promise((r) => setTimeout(r, 1100));
        await c.getManifest('lib/app', 'v1');
        assert.equal(proxy.tokenRequests.length, 2);
        await c.close();
      } finally {
        await proxy.close();
      }
    });

    it('says which user the token server refused', async () => {
      const proxy = await startAuthProxy({ upstream: reg.url, mode: 'bearer', user: 'alice', password: 'secret' });
      try {
        const c = new RegistryClient({ host: proxy.host, plainHttp: true, retries: 0, credentials: async () => ({ username: 'alice', password: 'wrong' }) });
        await assert.rejects(c.getManifest('lib/app', 'v1'), (err: unknown) => err instanceof AuthError && /401 for user alice/.test(err.message));
        await c.close();
      } finally {
        await proxy.close();
      }
    });

    it('retries 503 answers with backoff, and gives up after its retries', async () => {
      const proxy = await startAuthProxy({ upstream: reg.url, mode: 'none', failFirst: 2 });
      try {
        const c = new RegistryClient({ host: proxy.host, plainHttp: true, retries: 3, backoffMs: 10 });
        assert.equal((await c.getManifest('lib/app', 'v1')).digest, image.digest);
        assert.equal(proxy.failed, 2);
        await c.close();
        const proxy2 = await startAuthProxy({ upstream: reg.url, mode: 'none', failFirst: 10 });
        const c2 = new RegistryClient({ host: proxy2.host, plainHttp: true, retries: 2, backoffMs: 10 });
        await assert.rejects(c2.getManifest('lib/app', 'v1'), (err: unknown) => err instanceof RegistryResponseError && err.status === 503);
        assert.equal(proxy2.failed, 3);
        await c2.close();
        await proxy2.close();
      } finally {
        await proxy.close();
      }
    });
  });
});

describe('client parsing', () => {
  it('parses challenges with quoted parameters', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  });

  it('normalises image references like docker does', () => {
    assert.deepEqual(parseImageReference('alpine'), { host: 'docker.io', repository: 'library/alpine', tag: 'latest' });
    assert.deepEqual(parseImageReference('127.0.0.1:5000/team/app:v1'), { host: '127.0.0.1:5000', repository: 'team/app', tag: 'v1' });
    const d = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseImageReference(`localhost/app@${d}`), { host: 'localhost', repository: 'app', digest: d });
    assert.throws(() => parseImageReference('Bad/Name'), /invalid repository name/);
  });
});
