// The lazy-load rule (docs/architecture.md, "Where to add things"): a registry started with the
// defaults loads no module of a feature it is not configured for. Idle memory and start time
// grow with every module loaded at start (bench/README.md, issue 22), so a feature imports its
// heavy parts with `await import()` behind its configuration check. This test starts the real
// `berth serve` with a preload that records every module it loads, CommonJS and ESM alike.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from '../support/processes.js';

/** Preload: CommonJS loads through Module._load, ESM ones through a registered load hook (main thread only). */
const RECORDER = `
const Module = require('node:module');
const fs = require('node:fs');
const out = process.env.BERTH_TEST_LOADED;
const load = Module._load;
Module._load = function (request, parent) {
  const loaded = load.apply(this, arguments);
  try { fs.appendFileSync(out, Module._resolveFilename(request, parent) + '\\n'); } catch {}
  return loaded;
};
// The hooks thread runs this preload too (NODE_OPTIONS): it must not register hooks again.
if (require('node:worker_threads').isMainThread) Module.register('data:text/javascript,' + encodeURIComponent(
  'import fs from "node:fs"; export async function load(url, context, next) {'
  + ' fs.appendFileSync(' + JSON.stringify(out) + ', url + "\\\\n"); return next(url, context); }'));
`;

/** What a default registry (filesystem, no auth, no proxy, no Redis, no S3) must not load. */
const NOT_CONFIGURED: [string, RegExp][] = [
  ['the auth service', /dist\/src\/auth\/service\.js/],
  ['the token server', /dist\/src\/http\/token-routes\.js/],
  ['the pull-through cache', /dist\/src\/proxy\/pull-through\.js/],
  ['jose (token auth)', /node_modules\/jose\//],
  ['hash-wasm (S3 upload hash states)', /node_modules\/hash-wasm\//],
  ['Ajv (route schemas, admin API only)', /node_modules\/ajv\//],
  ['the AWS SDK (S3)', /node_modules\/@aws-sdk\//],
  ['ioredis', /node_modules\/ioredis\//],
  ['pg (PostgreSQL)', /node_modules\/pg\//],
  ['ldapts', /node_modules\/ldapts\//],
  ['openid-client', /node_modules\/openid-client\//],
  ['Sigstore', /node_modules\/@sigstore\//],
  ['replication (its queue and worker)', /dist\/src\/replication\/(service|worker|job-store)\.js/],
  ['the OCI client (replication, berth copy)', /dist\/src\/client\//],
  ['undici (the OCI client\'s HTTP)', /node_modules\/undici\//],
  // Metrics are collected only where something reads them (/metrics on a listener, the proxy's report).
  ['prom-client (/metrics is served nowhere by default)', /node_modules\/prom-client\//],
  ['the OpenTelemetry API (prom-client\'s process metrics)', /node_modules\/@opentelemetry\//],
  ['the metrics instruments', /dist\/src\/(metrics\/metrics|gc\/metrics|gc\/usage-metrics|events\/notifications-metrics)\.js/],
  ['the proxy cache\'s eviction schedule', /dist\/src\/proxy\//],
];

/** With authentication the admin API may add replication policies, so replication's queue is
 * there; the client side (OCI client, undici, copy engine) waits for a first job. */
const UNTIL_A_JOB: [string, RegExp][] = [
  ['the replication runtime', /dist\/src\/replication\/(runtime|executor|remote-side)\.js/],
  ['the OCI client', /dist\/src\/client\//],
  ['undici', /node_modules\/undici\//],
  ['the copy engine', /dist\/src\/transport\//],
];

/** Starts `berth serve` with the recorder; returns the modules it loaded once serving. */
async function loadedBy(dir: string, env: Record<string, string> = {}, readyStatus = 200): Promise<{ berth: BerthProcess; loaded: string }> {
  const recorder = join(dir, 'record-loads.cjs');
  await writeFile(recorder, RECORDER);
  const list = join(dir, 'loaded.txt');
  const berth = await startBerth({ root: join(dir, 'root'), env: { NODE_OPTIONS: `--require=${recorder}`, BERTH_TEST_LOADED: list, ...env }, readyStatus });
  return { berth, loaded: await readFile(list, 'utf8') };
}

describe('lazy-load features', () => {
  let dir: string;
  let berth: BerthProcess;
  let loaded: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-lazy-'));
    ({ berth, loaded } = await loadedBy(dir));
  });
  after(async () => {
    await berth?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records what it loads (the recorder works)', () => {
    assert.match(loaded, /node_modules\/fastify\//);
    assert.match(loaded, /dist\/src\/http\/app\.js/);
  });

  for (const [what, path] of NOT_CONFIGURED) {
    it(`does not load ${what} when it is not configured`, () => {
      assert.doesNotMatch(loaded, path);
    });
  }
});

describe('lazy-load replication with authentication and no policy', () => {
  let dir: string;
  let berth: BerthProcess;
  let loaded: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-lazy-auth-'));
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, '');
    ({ berth, loaded } = await loadedBy(dir, { REGISTRY_AUTH_HTPASSWD_PATH: htpasswd }, 401));
  });
  after(async () => {
    await berth?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('has the replication queue (the admin API may add policies)', () => {
    assert.match(loaded, /dist\/src\/replication\/service\.js/);
  });

  for (const [what, path] of UNTIL_A_JOB) {
    it(`does not load ${what} before a replication job runs`, () => {
      assert.doesNotMatch(loaded, path);
    });
  }

  it('does not load the directories (LDAP, OpenID Connect) the configuration does not name', () => {
    assert.doesNotMatch(loaded, /dist\/src\/auth\/directories\/(ldap|oidc)\.js/);
    assert.doesNotMatch(loaded, /node_modules\/(ldapts|openid-client)\//);
  });
});
