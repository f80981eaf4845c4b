// The read API's OpenAPI document: served at /api/v1/openapi.json, equal to the copy in
// docs/openapi/read-api.json that the console and scripts read, and every schema compiles.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { OPENAPI } from '../../src/http/read-api/openapi.js';
import { conforming, getJson, validatorFor } from './read-support.js';

const DOC = fileURLToPath(new URL('../../../docs/openapi/read-api.json', import.meta.url));

describe('read API: the OpenAPI document', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry();
  });
  after(async () => reg.close());

  it('is served, and docs/openapi/read-api.json is the same document', async () => {
    const served = await getJson(`${reg.url}/api/v1/openapi.json`);
    assert.equal(served.status, 200);
    assert.deepEqual(served.body, JSON.parse(JSON.stringify(OPENAPI)));
    const written = JSON.parse(await readFile(DOC, 'utf8')) as unknown;
    assert.deepEqual(written, served.body, 'docs/openapi/read-api.json is stale: regenerate it with `npm run build && node scripts/write-openapi.mjs`');
  });

  it('has a schema for every answer it names, and they compile', () => {
    const named = JSON.stringify(OPENAPI).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const ref of new Set(named)) assert.ok(ref.slice('#/components/schemas/'.length) in OPENAPI.components.schemas, ref);
    for (const name of Object.keys(OPENAPI.components.schemas)) assert.equal(typeof validatorFor(name), 'function', name);
    assert.throws(() => conforming('Repository', { name: 'x' }), /is not a Repository/);
  });
});
