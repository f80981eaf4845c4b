// One route match per request: the target reading matches the route once and everything after
// it (metrics, access log, the dispatcher, the events' request context) reads that match. The
// app is built with a counting matcher; the route table's first pattern, which every match over
// the table tries, counts matches made around that matcher too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { httpSettingsFrom } from '../../src/http/settings.js';
import { matchRoute, ROUTES, type RouteMatcher } from '../../src/http/routes.js';
import { Registry } from '../../src/registry/registry.js';
import { MemoryDriver } from '../../src/storage/drivers/inmemory/index.js';
import { RequestScope } from '../../src/events/request-scope.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { blob, imageManifest, OCI_MANIFEST } from '../support/oci-fixtures.js';

const REPO = 'team/app';
const layer = blob('route-match-count layer');
const config = blob('{}');
const image = imageManifest(config, [layer]);

describe('route matching', () => {
  let app: FastifyInstance;
  let counted = 0;
  let tableScans = 0;
  const first = ROUTES[0]!;
  const pattern = first.pattern;

  before(async () => {
    // Every match over the table, whoever makes it, tries the first route's pattern first.
    const scanned = new RegExp(pattern.source, pattern.flags);
    scanned.exec = (s: string) => { tableScans++; return RegExp.prototype.exec.call(pattern, s); };
    first.pattern = scanned;
    const counting: RouteMatcher = (path) => { counted++; return matchRoute(path); };
    const { config: cfg } = loadConfig({ env: {} });
    app = await buildApp({
      registry: new Registry(new MemoryDriver()),
      settings: httpSettingsFrom(cfg),
      logger: pino({ level: 'silent' }),
      observe: { scope: new RequestScope(), metrics: createMetrics(), accessLog: true },
      matchRoute: counting,
    });
  });
  after(async () => {
    first.pattern = pattern;
    await app.close();
  });

  async function matchesOf(method: string, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; matches: number; scans: number; location: string }> {
    counted = 0;
    tableScans = 0;
    const reply = await app.inject({ method: method as 'GET', url, headers, ...(body ? { payload: body } : {}) });
    return { status: reply.statusCode, matches: counted, scans: tableScans, location: String(reply.headers.location ?? '') };
  }

  it('matches the route once for every kind of request, and not at all off the API', async () => {
    const rows: string[] = [];
    const check = async (method: string, url: string, status: number, body?: Buffer, headers?: Record<string, string>) => {
      const r = await matchesOf(method, url, body, headers);
      rows.push(`${method} ${url}`);
      assert.equal(r.status, status, `${method} ${url}: status`);
      assert.equal(r.matches, 1, `${method} ${url}: route matches`);
      assert.equal(r.scans, 1, `${method} ${url}: matches over the route table`);
      return r;
    };
    const octets = { 'content-type': 'application/octet-stream' };
    // A chunked upload (POST, PATCH, PUT) and a monolithic one (POST ?digest=).
    const started = await check('POST', `/v2/${REPO}/blobs/uploads/`, 202);
    const patched = await check('PATCH', started.location, 202, layer.data, octets);
    await check('PUT', `${patched.location}${patched.location.includes('?') ? '&' : '?'}digest=${layer.digest}`, 201);
    await check('POST', `/v2/${REPO}/blobs/uploads/?digest=${config.digest}`, 201, config.data, octets);
    await check('PUT', `/v2/${REPO}/manifests/v1`, 201, image.body, { 'content-type': OCI_MANIFEST });
    await check('GET', `/v2/${REPO}/manifests/v1`, 200, undefined, { accept: OCI_MANIFEST });
    await check('HEAD', `/v2/${REPO}/manifests/${image.digest}`, 200, undefined, { accept: OCI_MANIFEST });
    await check('GET', `/v2/${REPO}/blobs/${layer.digest}`, 200);
    await check('HEAD', `/v2/${REPO}/blobs/${layer.digest}`, 200);
    await check('GET', `/v2/${REPO}/tags/list`, 200);
    await check('GET', '/v2/_catalog', 200);
    await check('GET', `/v2/${REPO}/referrers/${image.digest}`, 200);
    await check('GET', `/v2/${REPO}/no-such-endpoint`, 404);
    // A refused target is matched once too: to name the part of the path that is wrong.
    await check('GET', `/v2/${REPO}/manifests/v%31`, 400);
    assert.equal(rows.length, 14);

    for (const url of ['/v2/', '/healthz', '/elsewhere']) {
      const r = await matchesOf('GET', url);
      assert.equal(r.matches + r.scans, 0, `GET ${url}: no route match`);
    }
  });
});
