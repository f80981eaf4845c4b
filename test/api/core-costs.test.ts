// What one request costs the core (issue 16): a manifest PUT digests and parses the manifest once,
// listeners included (they are told media type, size and newness by the store), and never reads
// it back; a blob GET makes at most three storage calls. Counted with a counting driver and by
// spying on node:crypto's createHash and JSON.parse, so src/ needs no test hooks.
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { Registry } from '../../src/registry/registry.js';
import { withListeners, type RegistryEvent } from '../../src/events/registry-listener.js';
import { RequestScope } from '../../src/events/request-scope.js';
import { buildApp } from '../../src/http/app.js';
import { httpSettingsFrom } from '../../src/http/settings.js';
import { loadConfig } from '../../src/config/load.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { CountingDriver } from '../fakes/counting-driver.js';

/** createHash calls whose input included exactly `bytes` (the manifest), while `work` runs. */
async function digestsOf(bytes: Buffer, work: () => Promise<void>): Promise<number> {
  const original = crypto.createHash;
  let count = 0;
  const spy = mock.method(crypto, 'createHash', (...args: Parameters<typeof crypto.createHash>) => {
    const hash = original(...args);
    const update = hash.update.bind(hash);
    hash.update = ((data: crypto.BinaryLike, ...rest: unknown[]) => {
      if (Buffer.isBuffer(data) && data.equals(bytes)) count++;
      return (update as (...a: unknown[]) => crypto.Hash)(data, ...rest);
    }) as typeof hash.update;
    return hash;
  });
  // Named imports of node:crypto (src/oci/digest.ts) follow the patched export.
  syncBuiltinESMExports();
  try {
    await work();
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
  return count;
}

/** JSON.parse calls of exactly `text` while `work` runs. */
async function parsesOf(text: string, work: () => Promise<void>): Promise<number> {
  const spy = mock.method(JSON, 'parse');
  try {
    await work();
    return spy.mock.calls.filter((c) => c.arguments[0] === text).length;
  } finally {
    spy.mock.restore();
  }
}

describe('what one request costs the core', () => {
  const driver = new CountingDriver(new MemoryDriver());
  const events: RegistryEvent[] = [];
  let app: FastifyInstance;
  const config = blob('{"architecture":"amd64","os":"linux"}');
  const layer = blob('layer bytes for the cost test');
  const manifest = imageManifest(config, [layer]);

  before(async () => {
    const core = new Registry(driver);
    const registry = withListeners(core, new RequestScope(), [{ event: (e) => void events.push(e) }]);
    const { config: settings } = loadConfig({ env: { REGISTRY_STORAGE_INMEMORY: '{}' } });
    app = await buildApp({ registry, settings: httpSettingsFrom(settings), logger: pino({ level: 'silent' }) });
    for (const b of [config, layer]) {
      const res = await app.inject({ method: 'POST', url: `/v2/app/blobs/uploads/?digest=${b.digest}`, payload: b.data, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(res.statusCode, 201);
    }
  });
  after(async () => {
    await app?.close();
  });

  it('digests and parses a manifest PUT once, listeners included, and never reads it back', async () => {
    const hex = manifest.digest.slice('sha256:'.length);
    driver.reset();
    let status = 0;
    const put = async () => {
      const res = await app.inject({ method: 'PUT', url: '/v2/app/manifests/v1', payload: manifest.body, headers: { 'content-type': manifest.mediaType } });
      status = res.statusCode;
    };
    const text = manifest.body.toString('utf8');
    let digests = 0;
    const parses = await parsesOf(text, async () => {
      digests = await digestsOf(manifest.body, put);
    });
    assert.equal(status, 201);
    assert.equal(digests, 1, 'one digest of the manifest bytes');
    assert.equal(parses, 1, 'one parse of the manifest');
    assert.equal(driver.count('getContent', new RegExp(`/blobs/sha256/${hex.slice(0, 2)}/${hex}/data$`)), 0, 'the manifest is not read back');
    const pushed = events.find((e) => e.action === 'push' && e.kind === 'manifest');
    assert.deepEqual(
      pushed && { digest: pushed.digest, size: pushed.size, mediaType: pushed.mediaType, newLink: pushed.newLink, tag: pushed.tag },
      { digest: manifest.digest, size: manifest.body.length, mediaType: manifest.mediaType, newLink: true, tag: 'v1' },
    );
  });

  it('tells listeners a re-pushed manifest made no new link', async () => {
    events.length = 0;
    const res = await app.inject({ method: 'PUT', url: '/v2/app/manifests/v2', payload: manifest.body, headers: { 'content-type': manifest.mediaType } });
    assert.equal(res.statusCode, 201);
    assert.equal(events.find((e) => e.action === 'push' && e.kind === 'manifest')?.newLink, false);
  });

  it('serves a blob GET with at most three storage calls, its pull event included', async () => {
    events.length = 0;
    driver.reset();
    const res = await app.inject({ method: 'GET', url: `/v2/app/blobs/${layer.digest}` });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.rawPayload, layer.data);
    assert.ok(driver.count() <= 3, `storage calls: ${JSON.stringify(driver.calls)}`);
    assert.equal(events.find((e) => e.action === 'pull' && e.kind === 'blob')?.size, layer.data.length);
  });
});
