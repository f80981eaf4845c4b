// One writer of error bodies (src/http/error-body.ts): every refusal, whichever part of the HTTP
// layer raises it (a handler, the dispatcher, the target reading, the not-found handler), has the
// spec's `{"errors":[...]}` body on GET and none on HEAD; and no other source file builds one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { httpSettingsFrom } from '../../src/http/settings.js';
import { errorBodyText, rawErrorResponse } from '../../src/http/error-body.js';
import { RegistryError } from '../../src/errors/index.js';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIGEST = `sha256:${'0'.repeat(64)}`;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) return sources(full);
    return entry.endsWith('.ts') ? [full] : [];
  });
}

describe('error bodies', () => {
  let app: FastifyInstance;
  before(async () => {
    const { config } = loadConfig({ env: {} });
    app = await buildApp({ registry: new Registry(new MemoryDriver()), settings: httpSettingsFrom(config), logger: pino({ level: 'silent' }) });
  });
  after(async () => { await app.close(); });

  const cases: Array<{ what: string; url: string; status: number; code: string }> = [
    { what: 'a handler (unknown blob)', url: `/v2/team/app/blobs/${DIGEST}`, status: 404, code: 'BLOB_UNKNOWN' },
    { what: 'the dispatcher (no such endpoint)', url: '/v2/team/app/nothing-here', status: 404, code: 'NOT_FOUND' },
    { what: 'the not-found handler (outside the API)', url: '/elsewhere', status: 404, code: 'NOT_FOUND' },
    { what: 'the target reading (encoded character)', url: '/v2/team/app/manifests/v%31', status: 400, code: 'MANIFEST_INVALID' },
    { what: 'the gate of names (invalid repository name)', url: `/v2/Team/app/blobs/${DIGEST}`, status: 400, code: 'NAME_INVALID' },
  ];
  for (const c of cases) {
    it(`answers a refusal from ${c.what} with the spec's body on GET and none on HEAD`, async () => {
      const get = await app.inject({ method: 'GET', url: c.url });
      assert.equal(get.statusCode, c.status);
      assert.match(String(get.headers['content-type']), /^application\/json/);
      assert.equal(get.headers['docker-distribution-api-version'], 'registry/2.0');
      const body = get.json() as { errors: Array<{ code: string; message: string }> };
      assert.equal(body.errors[0]?.code, c.code);
      const head = await app.inject({ method: 'HEAD', url: c.url });
      assert.equal(head.statusCode, c.status);
      assert.equal(head.body, '');
    });
  }

  it('writes extra fields before the errors list, and whole responses for a raw socket', () => {
    assert.equal(errorBodyText([{ code: 'DENIED', message: 'no' }], { error: 'access_denied' }), '{"error":"access_denied","errors":[{"code":"DENIED","message":"no"}]}');
    const text = rawErrorResponse(new RegistryError('UNAVAILABLE', 'late', { status: 408 }));
    const [head = '', body = ''] = text.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(head, new RegExp(`\r\nContent-Length: ${Buffer.byteLength(body)}(\r\n|$)`));
    assert.equal((JSON.parse(body) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNAVAILABLE');
  });

  it('leaves building error lists to error-body.ts: no source file writes one by hand', () => {
    const builders = sources(join(ROOT, 'src'))
      .filter((file) => /\berrors\s*:\s*\[/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file).split(sep).join('/'));
    assert.deepEqual(builders, [], 'build error bodies with src/http/error-body.ts');
  });
});
