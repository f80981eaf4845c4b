// The real `berth` command as a child process: `config verify|print|schema`, and what `serve`
// says about a configuration on the way up (or on the way out).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBerth } from '../support/cli.js';

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

// A guard against a hung command, not a timing assertion: generous, since a loaded 2-core machine
// starts each Node process in seconds.
const HANG_GUARD_MS = 120_000;
// Each case starts one or two Node processes; a few at a time keep a 2-core machine responsive
// (all seventeen at once starved each other past any sensible guard).
const PARALLEL = { concurrency: 2 };

function berth(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return runBerth(args, env, HANG_GUARD_MS);
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
    const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
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
describe('the berth command line', PARALLEL, () => {
  describe('berth config verify', PARALLEL, () => {
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

  describe('berth config verify: middleware.storage', PARALLEL, () => {
    const cloudfront = (options: string) => DISTRIBUTION_CONFIG.replace('validation:\n', `middleware:\n  storage:\n    - name: cloudfront\n      options:\n${options}validation:\n`);

    it('names a wrong key inside a middleware\'s options and the key it probably meant', async () => {
      // `secretkey` is what some guides write for CloudFront's key; Distribution's key is privatekey.
      const r = await berth(['config', 'verify', file(cloudfront('        baseurl: https://d111111abcdef8.cloudfront.net/\n        secretkey: /etc/berth/cf.pem\n        keypairid: K2JCJMDEHXQW5F\n'))]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /middleware\.storage\[0\]\.options\.secretkey/);
      assert.match(r.stderr, /did you mean middleware\.storage\[0\]\.options\.privatekey\?/);
      assert.doesNotMatch(r.stderr, /Expected union value/);
    });

    it('names a middleware kind it does not know and the nearest one', async () => {
      const r = await berth(['config', 'verify', file(DISTRIBUTION_CONFIG.replace('validation:\n', 'middleware:\n  storage:\n    - name: cloudfornt\n      options:\n        baseurl: https://cdn.example.com/\nvalidation:\n'))]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /middleware\.storage\[0\]\.name: must be one of cloudfront, redirect \(did you mean cloudfront\?\)/);
    });
  });

  describe('htpasswd entries Berth cannot check', PARALLEL, () => {
    /** A file written by Apache's own htpasswd: its default (MD5), -s, -d, -p, and one bcrypt (-B) user. */
    function htpasswdFile(): string {
      const path = join(dir, `htpasswd-${n++}`);
      execFileSync('htpasswd', ['-cbm', path, 'md5user', 'pw1']);
      for (const [flag, user] of [['-bs', 'shauser'], ['-bd', 'cryptuser'], ['-bp', 'plainuser'], ['-bB', 'bcryptuser']]) {
        execFileSync('htpasswd', [flag!, path, user!, 'pw1'], { stdio: 'ignore' });
      }
      return path;
    }
    const config = (htpasswd: string, root: string) => `version: 0.1
storage:
  filesystem:
    rootdirectory: ${root}
http:
  addr: 127.0.0.1:0
auth:
  htpasswd:
    realm: berth
    path: ${htpasswd}
`;
    // In JSON log lines the quotes around the user are escaped.
    const expectNamed = (out: string, path: string) => {
      assert.match(out, new RegExp(`htpasswd ${path} line 1: user \\\\?"md5user\\\\?" has an Apache MD5 hash`));
      assert.match(out, new RegExp(`line 2: user \\\\?"shauser\\\\?" has a SHA-1 hash`));
      assert.match(out, new RegExp(`line 3: user \\\\?"cryptuser\\\\?" has a crypt hash`));
      assert.match(out, new RegExp(`line 4: user \\\\?"plainuser\\\\?" has a plain-text password`));
      assert.doesNotMatch(out, /bcryptuser/);
    };

    it('berth config verify names each non-bcrypt line by number and user, and still passes', async () => {
      const path = htpasswdFile();
      const r = await berth(['config', 'verify', file(config(path, join(dir, `root-${n++}`)))]);
      assert.equal(r.code, 0, r.stderr);
      expectNamed(r.stdout, path);
      assert.match(r.stdout, /configuration is valid/);
    });

    it('berth serve warns about them at start', async () => {
      const path = htpasswdFile();
      const r = await serveUntil(['--config', file(config(path, join(dir, `root-${n++}`)))], {}, /serving the registry API/);
      assert.ok(r.matched, r.stderr);
      expectNamed(r.stderr, path);
    });
  });

  describe('log format on a terminal and off it', PARALLEL, () => {
    /** `berth serve` under `script`, which gives it a pseudo-terminal; stops it once it serves. */
    function serveOnTerminal(config: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const command = [process.execPath, BERTH, 'serve', config].map((a) => `'${a}'`).join(' ');
        const child = spawn('script', ['-qc', command, '/dev/null'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        let out = '';
        const stop = () => { try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ } };
        // A safety net so a hung server cannot hang the suite; not a timing assertion.
        const guard = setTimeout(stop, HANG_GUARD_MS);
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          if (/serving the registry API/.test(out)) stop();
        });
        child.on('error', reject);
        child.on('close', () => {
          clearTimeout(guard);
          resolve(out);
        });
      });
    }
    const served = (formatter = '') => file(`version: 0.1\n${formatter ? `log:\n  formatter: ${formatter}\n` : ''}storage:\n  inmemory:\nhttp:\n  addr: 127.0.0.1:0\n`);

    it('writes human-readable lines to a terminal when log.formatter is not set', async () => {
      const out = await serveOnTerminal(served());
      assert.match(out, /INFO: berth is serving the registry API/);
      assert.doesNotMatch(out, /"msg":"berth is serving/);
    });

    it('writes JSON to a terminal when log.formatter is json', async () => {
      const out = await serveOnTerminal(served('json'));
      assert.match(out, /"msg":"berth is serving the registry API"/);
    });

    it('writes JSON when stderr is not a terminal and log.formatter is not set', async () => {
      const r = await serveUntil([served()], {}, /serving the registry API/);
      assert.ok(r.matched, r.stderr);
      assert.match(r.stderr, /^\{"level":30,.*"msg":"berth is serving the registry API"\}$/m);
    });
  });

  describe('berth config verify: http.tls.ciphersuites', PARALLEL, () => {
    const tls = (suites: string[]) => DISTRIBUTION_CONFIG.replace('  addr: :5000\n', `  addr: :5000\n  tls:\n    certificate: /nonexistent/cert.pem\n    key: /nonexistent/key.pem\n    ciphersuites:\n${suites.map((c) => `      - ${c}\n`).join('')}`);

    it('accepts the Go names of registry:2 configs, TLS 1.3 ones included', async () => {
      const r = await berth(['config', 'verify', file(tls(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256']))]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /configuration is valid/);
    });

    it('exits non-zero for a suite it does not know, naming the key and the value', async () => {
      const r = await berth(['config', 'verify', file(tls(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_512_GCM_SHA1024']))]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /http\.tls\.ciphersuites: unknown cipher suite "TLS_ECDHE_RSA_WITH_AES_512_GCM_SHA1024"/);
      assert.doesNotMatch(r.stdout, /configuration is valid/);
    });

    it('exits non-zero for a list of TLS 1.3 suites only, which would leave TLS 1.2 without any', async () => {
      const r = await berth(['config', 'verify', file(tls(['TLS_AES_128_GCM_SHA256']))]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /http\.tls\.ciphersuites: lists only TLS 1\.3 suites/);
    });
  });

  describe('berth config print', PARALLEL, () => {
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

    it('masks every credential (file and environment) and keeps what names the servers', async () => {
      const pem = '-----BEGIN PRIVATE KEY-----\\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg-secret-pem-1\\n-----END PRIVATE KEY-----\\n';
      const path = file(`version: 0.1
log:
  fields:
    password: secret-field-1
storage:
  s3:
    bucket: images
    region: eu-west-1
    accesskey: AKIA-secret-ak-1
    secretkey: secret-sk-1
    sessiontoken: secret-st-1
http:
  addr: :5000
  secret: secret-http-1
  tls:
    certificate: /etc/berth/tls.crt
    key: /etc/berth/tls.key
auth:
  token:
    signingkey: "${pem}"
proxy:
  username: mirror-user
  password: secret-proxy-1
  upstreams:
    - name: hub
      remoteurl: https://registry-1.docker.io
      username: hub-user
      password: secret-upstream-1
redis:
  addr: redis.example.com:6379
  password: secret-redis-1
meta:
  postgres:
    url: postgres://berth:secret-pg-1@db.example.com:5432/berth
notifications:
  endpoints:
    - name: hook
      url: https://hook-user:secret-hookurl-1@hooks.example.com/event?access_token=secret-hookq-1&team=ops
      headers:
        Authorization: [Bearer secret-hookauth-1]
        X-Team: [ops]
health:
  http:
    - uri: https://status.example.com/ping
      headers:
        Private-Token: [secret-health-1]
middleware:
  storage:
    - name: cloudfront
      options:
        baseurl: https://d111111abcdef8.cloudfront.net/
        privatekey: "${pem}"
        keypairid: K2JCJMDEHXQW5F
reporting:
  bugsnag:
    apikey: secret-bugsnag-1
`);
      const r = await berth(['config', 'print', path], { REGISTRY_REDIS_PASSWORD: 'secret-redis-env-1' });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /secret-/, r.stdout);
      type Printed = Record<string, any>;
      const c = JSON.parse(r.stdout) as Printed;
      assert.equal(c.storage.s3.secretkey, '[redacted]');
      assert.equal(c.storage.s3.sessiontoken, '[redacted]');
      assert.equal(c.storage.s3.bucket, 'images');
      assert.equal(c.http.secret, '[redacted]');
      assert.equal(c.http.tls.key, '/etc/berth/tls.key', 'a path is not a secret');
      assert.equal(c.auth.token.signingkey, '[redacted]', 'an inline key is');
      assert.equal(c.proxy.password, '[redacted]');
      assert.equal(c.proxy.username, 'mirror-user');
      assert.equal(c.proxy.upstreams[0].password, '[redacted]');
      assert.equal(c.proxy.upstreams[0].remoteurl, 'https://registry-1.docker.io');
      assert.equal(c.redis.password, '[redacted]');
      assert.equal(c.redis.addr, 'redis.example.com:6379');
      assert.equal(c.meta.postgres.url, 'postgres://berth:***@db.example.com:5432/berth');
      assert.equal(c.notifications.endpoints[0].url, 'https://hook-user:***@hooks.example.com/event?access_token=***&team=ops');
      assert.deepEqual(c.notifications.endpoints[0].headers, { Authorization: ['[redacted]'], 'X-Team': ['ops'] });
      assert.deepEqual(c.health.http[0].headers, { 'Private-Token': ['[redacted]'] });
      assert.equal(c.middleware.storage[0].options.privatekey, '[redacted]');
      assert.equal(c.middleware.storage[0].options.keypairid, 'K2JCJMDEHXQW5F');
      assert.equal(c.reporting.bugsnag.apikey, '[redacted]');
      assert.equal(c.log.fields.password, '[redacted]');
    });
  });

  describe('berth config schema', PARALLEL, () => {
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

  describe('berth serve', PARALLEL, () => {
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
