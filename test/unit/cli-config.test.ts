// The real `berth` command as a child process: `config verify|print|schema`, and what `serve`
// says about a configuration on the way up (or on the way out).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BERTH = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

const DISTRIBUTION_CONFIG = `version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  inmemory:
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
notifications:
  endpoints:
    - name: listener
      url: https://listener.example.com/event
reporting:
  bugsnag:
    apikey: not-a-key
validation:
  disabled: true
`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of this process without any REGISTRY_* variable, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return { ...env, ...extra };
}

function berth(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BERTH, ...args], { env: cleanEnv(env), timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/**
 * Starts `berth serve`, collects stderr until `until` matches (or the process exits), then stops it.
 * Resolves with everything it wrote and its exit code (null if it was still running and was killed).
 */
function serveUntil(args: string[], env: Record<string, string>, until: RegExp): Promise<{ stderr: string; code: number | null; matched: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BERTH, 'serve', ...args], { env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let matched = false;
    // A safety net so a hung server cannot hang the suite; not a timing assertion.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (!matched && until.test(stderr)) {
        matched = true;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ stderr, code: matched ? null : code, matched });
    });
  });
}

let dir: string;
let n = 0;
function file(text: string): string {
  const path = join(dir, `cli-${n++}.yml`);
  writeFileSync(path, text);
  return path;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each test is its own child process, mostly waiting on it: they run side by side.
describe('the berth command line', { concurrency: true }, () => {
  describe('berth config verify', { concurrency: true }, () => {
    it('accepts a Distribution config, exits 0 and warns about each unimplemented key by name', async () => {
      const path = file(DISTRIBUTION_CONFIG);
      const r = await berth(['config', 'verify', path]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /warning: reporting\b/);
      // validation (disabled: true here) is implemented: no warning.
      assert.doesNotMatch(r.stdout, /warning: validation\b/);
      assert.match(r.stdout, /configuration is valid/);
    });

    it('exits non-zero for an unknown key, naming it and the key it probably meant', async () => {
      const path = file(DISTRIBUTION_CONFIG.replace('  delete:\n', '  delte:\n'));
      const r = await berth(['config', 'verify', path]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /storage\.delte/);
      assert.match(r.stderr, /did you mean storage\.delete/);
      assert.doesNotMatch(r.stdout, /configuration is valid/);
    });
  });

  describe('berth config print', { concurrency: true }, () => {
    it('prints the effective configuration with environment overrides applied', async () => {
      const r = await berth(['config', 'print', file(DISTRIBUTION_CONFIG)], {
        REGISTRY_HTTP_ADDR: '127.0.0.1:6000',
        REGISTRY_STORAGE_DELETE_ENABLED: 'false',
      });
      assert.equal(r.code, 0, r.stderr);
      const config = JSON.parse(r.stdout) as { http: { addr: string; headers: unknown }; storage: { delete: { enabled: unknown }; inmemory: unknown } };
      assert.equal(config.http.addr, '127.0.0.1:6000');
      assert.equal(config.storage.delete.enabled, false);
      assert.deepEqual(config.http.headers, { 'X-Content-Type-Options': ['nosniff'] });
      assert.ok('inmemory' in config.storage);
    });
  });

  describe('berth config schema', { concurrency: true }, () => {
    it('prints a JSON Schema of the configuration with its defaults', async () => {
      const r = await berth(['config', 'schema']);
      assert.equal(r.code, 0, r.stderr);
      type Node = { type?: string; properties?: Record<string, Node>; default?: unknown; additionalProperties?: unknown };
      const schema = JSON.parse(r.stdout) as Node;
      assert.equal(schema.type, 'object');
      assert.equal(schema.additionalProperties, false);
      for (const key of ['version', 'log', 'storage', 'http', 'catalog']) assert.ok(schema.properties?.[key], key);
      assert.equal(schema.properties?.http?.properties?.addr?.default, ':5000');
      assert.equal(schema.properties?.storage?.properties?.filesystem?.properties?.rootdirectory?.default, './data');
      assert.equal(schema.properties?.storage?.properties?.delete?.properties?.enabled?.type, 'boolean');
    });
  });

  describe('berth serve', { concurrency: true }, () => {
    it('exits non-zero before serving when the config has an unknown key, naming it', async () => {
      const path = file(DISTRIBUTION_CONFIG.replace('  delete:\n', '  delte:\n'));
      const { code, stderr, matched } = await serveUntil(['--config', path], { REGISTRY_HTTP_ADDR: '127.0.0.1:0' }, /is serving/);
      assert.equal(matched, false, 'it must not start serving');
      assert.notEqual(code, 0);
      assert.match(stderr, /storage\.delte/);
      assert.match(stderr, /did you mean storage\.delete/);
    });

    it('starts with unimplemented keys (config given as a positional argument), printing a warning that names each one', async () => {
      const path = file(DISTRIBUTION_CONFIG);
      const { stderr, matched } = await serveUntil([path], {
        REGISTRY_HTTP_ADDR: '127.0.0.1:0',
        REGISTRY_LOG_LEVEL: 'info',
      }, /is serving/);
      assert.ok(matched, `the server never said it was serving:\n${stderr}`);
      const before = stderr.slice(0, stderr.search(/is serving/));
      assert.match(before, /warning: reporting\b/);
      assert.doesNotMatch(before, /warning: validation\b/);
    });
  });
});
