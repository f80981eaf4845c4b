// Configuration loading: Distribution's config.yml and REGISTRY_* variables, with unknown keys as
// errors that suggest the nearest key and unimplemented ones as warnings that name the key.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ConfigError, loadConfig, loadConfigInput, parseListenAddress, plainScalar, resolveConfig } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/duration.js';

/** A typical CNCF Distribution 2.8 config.yml, as found in deployments (no auth section). */
const DISTRIBUTION_CONFIG = `
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
  fields:
    service: registry
    environment: staging
storage:
  filesystem:
    rootdirectory: /var/lib/registry
    maxthreads: 100
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: true
      age: 168h
      interval: 24h
      dryrun: false
    readonly:
      enabled: false
  cache:
    blobdescriptor: inmemory
  redirect:
    disable: false
http:
  addr: :5000
  secret: asecretforlocaldevelopment
  draintimeout: 60s
  relativeurls: false
  headers:
    X-Content-Type-Options: [nosniff]
    Access-Control-Allow-Origin: ['*']
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`;

/** Distribution keys Berth parses but does not implement: each must come back as a warning naming it. */
const UNIMPLEMENTED_SECTIONS = `
notifications:
  events:
    includereferences: true
  endpoints:
    - name: alistener
      url: https://listener.example.com/event
      timeout: 1s
      threshold: 10
      backoff: 1s
proxy:
  remoteurl: https://registry-1.docker.io
  exec:
    command: docker-credential-x
middleware:
  registry:
    - name: redirect
reporting:
  bugsnag:
    apikey: x
validation:
  disabled: true
  manifests:
    indexes:
      platforms: list
compatibility:
  schema1:
    enabled: false
`;

const DEBIAN_CONFIG = '/etc/docker/registry/config.yml';

let dir: string;
let n = 0;
function file(text: string): string {
  const path = join(dir, `config-${n++}.yml`);
  writeFileSync(path, text);
  return path;
}

function configError(...fragments: Array<string | RegExp>) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    for (const f of fragments) {
      if (typeof f === 'string') assert.ok(err.message.includes(f), `"${err.message}" should mention "${f}"`);
      else assert.match(err.message, f);
    }
    return true;
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('environment values without the YAML parser', () => {
  it('reads the plainest scalars as YAML would, and leaves the rest to it', () => {
    for (const text of ['true', 'false', '0', '-12', '+7', '0123', '123456789012345', 'error', 'inmemory', 'a_b-c', 'Z9']) {
      assert.deepEqual(plainScalar(text), { value: parseYaml(text) }, text);
    }
    for (const text of ['True', 'FALSE', 'null', 'Null', '~', '', '1.5', '0x10', '1e3', '.inf', '[a]', 'a b', 'a:b', '1234567890123456']) {
      assert.equal(plainScalar(text), undefined, text);
    }
  });
});

describe('loadConfig: defaults', () => {
  it('with no file and no environment: filesystem storage in ./data, listening on :5000, delete disabled', () => {
    const { config, warnings } = loadConfig();
    assert.deepEqual(warnings, []);
    assert.equal(config.version, '0.1');
    assert.equal(config.storage.filesystem?.rootdirectory, './data');
    assert.equal(config.storage.inmemory, undefined);
    assert.equal(config.http.addr, ':5000');
    assert.equal(config.http.net, 'tcp');
    assert.equal(config.storage.delete.enabled, false);
    assert.equal(config.storage.maintenance.uploadpurging.enabled, true);
    assert.equal(config.storage.maintenance.uploadpurging.age, 7 * 24 * 3_600_000);
    assert.equal(config.storage.maintenance.uploadpurging.interval, 24 * 3_600_000);
    assert.equal(config.storage.redirect.expiry, 20 * 60_000);
    assert.equal(config.log.level, 'info');
    assert.equal(config.catalog.maxentries, 1000);
  });

  it('ignores environment variables that are not REGISTRY_*', () => {
    const { config } = loadConfig({ env: { HOME: '/root', PATH: '/bin', REGISTRYX: '1', registry_http_addr: ':1' } });
    assert.equal(config.http.addr, ':5000');
  });

  it('treats an empty file as all defaults', async () => {
    const { config, warnings } = loadConfig({ file: file('') });
    assert.deepEqual(warnings, []);
    assert.equal(config.storage.filesystem?.rootdirectory, './data');
  });

  it('reads version 0.1 (a YAML number) as the string Distribution expects', async () => {
    const { config } = loadConfig({ file: file('version: 0.1\n') });
    assert.equal(config.version, '0.1');
  });

  it('selects in-memory storage without adding the filesystem default', async () => {
    const { config } = loadConfig({ file: file('version: 0.1\nstorage:\n  inmemory:\n') });
    assert.equal(config.storage.filesystem, undefined);
    assert.notEqual(config.storage.inmemory, undefined);
  });

  it('maps the old top-level loglevel onto log.level', async () => {
    const { config } = loadConfig({ file: file('version: 0.1\nloglevel: debug\n') });
    assert.equal(config.log.level, 'debug');
  });
});

describe('loadConfig: resolved settings', () => {
  it('gives durations in milliseconds and sizes in bytes, from the file and the environment alike', () => {
    const yaml = 'version: 0.1\ngc: {grace: 90m}\nproxy:\n  upstreams:\n    - {name: hub, remoteurl: "https://registry-1.docker.io", maxsize: 10GiB, maxage: 168h}\n';
    const { config } = loadConfig({ file: file(yaml), env: { REGISTRY_AUTH_RATELIMIT_WINDOW: '2m' } });
    assert.equal(config.gc.grace, 90 * 60_000);
    assert.equal(config.gc.interval, 0);
    assert.equal(config.meta.index.resyncinterval, 60_000);
    assert.equal(config.proxy.upstreams[0]?.maxsize, 10 * 2 ** 30);
    assert.equal(config.proxy.upstreams[0]?.maxage, 168 * 3_600_000);
    assert.equal(config.proxy.upstreams[0]?.timeout, 30_000);
    assert.equal(config.proxy.upstreams[0]?.prefix, 'hub');
    assert.equal(config.proxy.eviction.interval, 600_000);
    assert.equal(config.auth?.ratelimit.window, 120_000);
  });

  it("folds Distribution's proxy.remoteurl into proxy.upstreams as the upstream \"default\" owning every name", () => {
    const yaml = 'version: 0.1\nproxy:\n  remoteurl: https://registry-1.docker.io\n  username: u\n  password: p\n  ttl: 72h\n';
    const { config } = loadConfig({ file: file(yaml) });
    assert.deepEqual(config.proxy.upstreams.map((u) => ({ name: u.name, prefix: u.prefix, root: u.root, ttl: u.ttl, maxage: u.maxage, username: u.username, password: u.password })),
      [{ name: 'default', prefix: undefined, root: true, ttl: 0, maxage: 72 * 3_600_000, username: 'u', password: 'p' }]);
    assert.equal('remoteurl' in config.proxy, false);
  });

  it('reads a variable as text where the key is text: REGISTRY_PROXY_TTL=0 is the duration "0"', () => {
    const { config } = loadConfig({ env: { REGISTRY_PROXY_REMOTEURL: 'https://registry-1.docker.io', REGISTRY_PROXY_TTL: '0', REGISTRY_HTTP_TIMEOUTS_BODYIDLE: '0' } });
    assert.equal(config.proxy.upstreams[0]?.maxage, 0);
    assert.equal(config.http.timeouts.bodyidle, 0);
    // Numbers and booleans still come from the variable's YAML reading.
    assert.equal(loadConfig({ env: { REGISTRY_CATALOG_MAXENTRIES: '7', REGISTRY_STORAGE_DELETE_ENABLED: 'true' } }).config.catalog.maxentries, 7);
  });

  it('resolves the storage and middleware sections too, and prints them as written', () => {
    const env = {
      REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: '2h', REGISTRY_STORAGE_REDIRECT_EXPIRY: '90s',
      REGISTRY_MIDDLEWARE_STORAGE: '[{name: cloudfront, options: {baseurl: "https://d1.example", privatekey: /k.pem, keypairid: K, updatefrequency: 30m}}]',
    };
    const { config } = loadConfig({ env });
    assert.equal(config.storage.maintenance.uploadpurging.age, 7_200_000);
    assert.equal(config.storage.redirect.expiry, 90_000);
    const cf = config.middleware.storage[0];
    assert.deepEqual(cf?.name === 'cloudfront' ? [cf.options.duration, cf.options.updatefrequency] : [], [20 * 60_000, 30 * 60_000]);
    const { input } = loadConfigInput({ env });
    assert.equal(input.storage.maintenance.uploadpurging.age, '2h');
    assert.equal(input.storage.redirect.expiry, '90s');
    const written = input.middleware.storage[0];
    assert.equal(written?.name === 'cloudfront' ? written.options.updatefrequency : '', '30m');
  });

  it('prints the configuration as written, not resolved', () => {
    const { input } = loadConfigInput({ env: { REGISTRY_GC_GRACE: '2h' } });
    assert.equal(input.gc.grace, '2h');
    assert.equal(resolveConfig(input).gc.grace, 7_200_000);
  });
});

describe('loadConfig: a Distribution 2.8 config.yml', () => {
  it('loads unchanged, with its values, and no warning', async () => {
    const { config, warnings } = loadConfig({ file: file(DISTRIBUTION_CONFIG) });
    assert.equal(config.storage.filesystem?.rootdirectory, '/var/lib/registry');
    assert.equal(config.storage.delete.enabled, true);
    assert.equal(config.storage.maintenance.uploadpurging.age, 7 * 24 * 3_600_000);
    assert.equal(config.storage.cache?.blobdescriptor, 'inmemory');
    assert.equal(config.http.addr, ':5000');
    assert.equal(config.http.draintimeout, 60_000);
    assert.deepEqual(config.http.headers, { 'X-Content-Type-Options': ['nosniff'], 'Access-Control-Allow-Origin': ['*'] });
    assert.deepEqual(config.log.fields, { service: 'registry', environment: 'staging' });
    assert.equal(config.health.storagedriver.threshold, 3);
    assert.deepEqual(warnings, []);
  });

  it('warns about every unimplemented section, naming each key', async () => {
    const { warnings } = loadConfig({ file: file(DISTRIBUTION_CONFIG + UNIMPLEMENTED_SECTIONS) });
    const keys = warnings.map((w) => w.split(':')[0]).sort();
    assert.deepEqual(keys, ['compatibility', 'middleware.registry', 'notifications.events.includereferences', 'proxy.exec', 'reporting', 'validation.manifests.indexes']);
  });

  it('warns about unimplemented keys nested under implemented sections (http.tls.letsencrypt, log.hooks)', async () => {
    const text = `${DISTRIBUTION_CONFIG}`.replace('http:\n', 'http:\n  tls:\n    certificate: /c.pem\n    key: /k.pem\n    letsencrypt:\n      email: a@b\n  debug:\n    addr: :5001\n')
      .replace('log:\n', 'log:\n  hooks:\n    - type: mail\n');
    const { warnings } = loadConfig({ file: file(text) });
    const keys = warnings.map((w) => w.split(':')[0]).sort();
    assert.deepEqual(keys, ['http.tls.letsencrypt', 'log.hooks']);
  });

  it('reads validation.manifests.urls as Distribution does, and refuses a pattern that does not compile', async () => {
    const urls = `${DISTRIBUTION_CONFIG}validation:\n  manifests:\n    urls:\n      allow:\n        - ^https?://([^/]+\\.)*example\\.com/\n      deny:\n        - ^https?://www\\.example\\.com/\n`;
    const { config } = loadConfig({ file: file(urls) });
    assert.deepEqual(config.validation.manifests.urls, { allow: ['^https?://([^/]+\\.)*example\\.com/'], deny: ['^https?://www\\.example\\.com/'] });
    assert.equal(config.validation.disabled, false);
    const bad = `${DISTRIBUTION_CONFIG}validation:\n  manifests:\n    urls:\n      allow: ['(unclosed']\n`;
    assert.throws(() => loadConfig({ file: file(bad) }), configError('validation.manifests.urls.allow'));
  });

  it('reads proxy allowedhosts and refuses an entry that is not a host', async () => {
    const ok = `${DISTRIBUTION_CONFIG}proxy:\n  upstreams:\n    - name: hub\n      remoteurl: https://registry-1.docker.io\n      allowedhosts: [minio.internal:9000, '*.s3.example.com']\n`;
    assert.deepEqual(loadConfig({ file: file(ok) }).config.proxy.upstreams[0]?.allowedhosts, ['minio.internal:9000', '*.s3.example.com']);
    const bad = `${DISTRIBUTION_CONFIG}proxy:\n  upstreams:\n    - name: hub\n      remoteurl: https://registry-1.docker.io\n      allowedhosts: ['http://minio.internal/']\n`;
    assert.throws(() => loadConfig({ file: file(bad) }), configError('allowedhosts'));
  });

  it('reads an upstream\'s verify: naming a trust policy, and refuses an unknown name or a policy that judges nothing', async () => {
    const policy = (repositories: string) => `trust:\n  policies:\n    - name: signed-upstream\n      repositories: ${repositories}\n      mode: enforce\n      keys: [/etc/berth/cosign.pub]\n`;
    const upstreams = (verify: string) => `proxy:\n  upstreams:\n    - name: hub\n      remoteurl: https://registry-1.docker.io\n      verify: ${verify}\n`;
    const ok = loadConfig({ file: file(`${DISTRIBUTION_CONFIG}${policy('[]')}${upstreams('signed-upstream')}`) }).config;
    assert.equal(ok.proxy.upstreams[0]?.verify, 'signed-upstream');
    assert.deepEqual(ok.trust.policies[0]?.repositories, []);
    assert.throws(() => loadConfig({ file: file(`${DISTRIBUTION_CONFIG}${policy('[]')}${upstreams('nope')}`) }),
      configError('proxy.upstreams[0].verify: no trust policy is named "nope" (trust.policies has signed-upstream)', 'trust.policies[0].repositories: empty'));
    assert.throws(() => loadConfig({ file: file(`${DISTRIBUTION_CONFIG}${upstreams('nope')}`) }), configError('(trust.policies is empty)'));
    // Distribution's single upstream takes it too.
    const remote = loadConfig({ file: file(`${DISTRIBUTION_CONFIG}${policy('[]')}proxy:\n  remoteurl: https://registry-1.docker.io\n  verify: signed-upstream\n`) }).config;
    assert.equal(remote.proxy.upstreams[0]?.verify, 'signed-upstream');
  });

  it('accepts Distribution\'s htpasswd and token auth sections, and refuses silly or both at once', async () => {
    const htpasswd = `${DISTRIBUTION_CONFIG}auth:\n  htpasswd:\n    realm: basic-realm\n    path: /etc/docker/registry/htpasswd\n`;
    assert.equal(loadConfig({ file: file(htpasswd) }).config.auth?.htpasswd?.realm, 'basic-realm');
    const token = `${DISTRIBUTION_CONFIG}auth:\n  token:\n    realm: https://auth.example/token\n    service: reg\n    issuer: iss\n    rootcertbundle: /certs/bundle.pem\n`;
    assert.equal(loadConfig({ file: file(token) }).config.auth?.token?.rootcertbundle, '/certs/bundle.pem');
    assert.throws(() => loadConfig({ file: file(`${DISTRIBUTION_CONFIG}auth:\n  silly:\n    realm: x\n`) }), configError('auth.silly'));
    const both = `${htpasswd}  token:\n    realm: https://auth.example/token\n`;
    assert.throws(() => loadConfig({ file: file(both) }), configError('auth', 'not both'));
    assert.throws(() => loadConfig({ file: file(`${DISTRIBUTION_CONFIG}auth:\n  allowfrom: [10.0.0.0/33]\n`) }), configError('auth.allowfrom'));
  });

  it('reads auth.ldap in the shape of issue 21, and refuses unknown keys and bad values by name', async () => {
    const ldap = `${DISTRIBUTION_CONFIG}auth:
  ldap:
    url: ldap://ldap.example.com:389
    starttls: true
    ca: /etc/berth/ldap-ca.pem
    binddn: cn=berth,ou=services,dc=example,dc=com
    bindpassword: secret
    userbase: ou=people,dc=example,dc=com
    userfilter: (uid={username})
    groupbase: ou=groups,dc=example,dc=com
    groupfilter: (member={dn})
    groups:
      "cn=dev,ou=groups,dc=example,dc=com": [{project: team, role: developer}]
    admins: cn=admins,ou=groups,dc=example,dc=com
    cache: 1m
`;
    const loaded = loadConfig({ file: file(ldap) }).config.auth?.ldap;
    assert.equal(loaded?.cache, 60_000);
    assert.equal(loaded?.verify, true);
    assert.deepEqual(loaded?.groups['cn=dev,ou=groups,dc=example,dc=com'], [{ project: 'team', role: 'developer' }]);
    assert.throws(() => loadConfig({ file: file(`${ldap}    bogus: 1\n`) }), configError('auth.ldap.bogus'));
    assert.throws(() => loadConfig({ file: file(ldap.replace('bindpassword: secret', 'bindpasswordfile: /x\n    bindpassword: secret')) }), configError('auth.ldap', 'not both'));
    assert.throws(() => loadConfig({ file: file(ldap.replace('ldap://ldap', 'http://ldap')) }), configError('auth.ldap.url'));
    assert.throws(() => loadConfig({ file: file(ldap.replace('role: developer', 'role: owner')) }), configError('auth.ldap.groups'));
    const oidc = `${DISTRIBUTION_CONFIG}auth:\n  oidc:\n    issuer: https://id.example.com\n    clientid: berth\n    clientsecret: s\n    alloweddomains: [example.com]\n`;
    assert.deepEqual(loadConfig({ file: file(oidc) }).config.auth?.oidc?.scopes, ['openid', 'profile', 'email']);
    assert.throws(() => loadConfig({ file: file(`${oidc}    bogus: 1\n`) }), configError('auth.oidc.bogus'));
  });

  it('loads Debian\'s docker-registry config.yml, auth section included', { skip: existsSync(DEBIAN_CONFIG) ? false : `${DEBIAN_CONFIG} is absent (install docker-registry)` }, async () => {
    const doc = parseYaml(readFileSync(DEBIAN_CONFIG, 'utf8')) as Record<string, unknown>;
    const { config, warnings } = loadConfig({ file: file(stringifyYaml(doc)) });
    assert.equal(config.version, '0.1');
    assert.ok(config.storage.filesystem?.rootdirectory, 'a filesystem root');
    assert.ok(config.http.addr.endsWith(':5000'));
    for (const key of ['middleware']) {
      assert.equal(warnings.some((w) => w.startsWith(`${key}:`)), doc[key] !== undefined, `warning for ${key}: ${warnings.join('; ')}`);
    }
  });
});

describe('loadConfig: REGISTRY_* environment variables', () => {
  it('override the file the way Distribution maps them', async () => {
    const path = file(DISTRIBUTION_CONFIG);
    const { config } = loadConfig({
      file: path,
      env: {
        REGISTRY_HTTP_ADDR: '127.0.0.1:5001',
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/srv/registry',
        REGISTRY_STORAGE_DELETE_ENABLED: 'false',
        REGISTRY_LOG_LEVEL: 'debug',
      },
    });
    assert.equal(config.http.addr, '127.0.0.1:5001');
    assert.equal(config.storage.filesystem?.rootdirectory, '/srv/registry');
    assert.equal(config.storage.delete.enabled, false);
    assert.equal(config.log.level, 'debug');
    assert.equal(config.storage.maintenance.uploadpurging.age, 7 * 24 * 3_600_000, 'the rest of the file stays');
  });

  it('types values by the schema: "true" becomes boolean true, numbers become numbers', () => {
    const { config } = loadConfig({ env: { REGISTRY_STORAGE_DELETE_ENABLED: 'true', REGISTRY_CATALOG_MAXENTRIES: '50' } });
    assert.equal(config.storage.delete.enabled, true);
    assert.equal(config.catalog.maxentries, 50);
  });

  it('keeps an address such as :5000 a string', () => {
    assert.equal(loadConfig({ env: { REGISTRY_HTTP_ADDR: ':5001' } }).config.http.addr, ':5001');
  });

  it('sets a response header with REGISTRY_HTTP_HEADERS_<Name>, keeping the name\'s case and dashes', () => {
    const { config } = loadConfig({ env: { 'REGISTRY_HTTP_HEADERS_X-Foo': '[bar, baz]' } });
    assert.deepEqual(config.http.headers, { 'X-Foo': ['bar', 'baz'] });
  });

  it('rejects an unknown variable, naming it and suggesting the nearest key', () => {
    assert.throws(() => loadConfig({ env: { REGISTRY_STORAGE_DELTE_ENABLED: 'true' } }),
      configError('REGISTRY_STORAGE_DELTE_ENABLED', 'did you mean storage.delete'));
    assert.throws(() => loadConfig({ env: { REGISTRY_HTTP_ADRR: ':5000' } }), configError('REGISTRY_HTTP_ADRR', 'http.addr'));
  });

  it('only warns about a variable whose first part is no section (Kubernetes injects REGISTRY_PORT and the like)', () => {
    const { config, warnings } = loadConfig({
      env: { REGISTRY_PORT: 'tcp://10.0.0.1:5000', REGISTRY_SERVICE_HOST: '10.0.0.1', REGISTRY_NOPE: 'x' },
    });
    assert.equal(config.http.addr, ':5000');
    for (const v of ['REGISTRY_PORT', 'REGISTRY_SERVICE_HOST', 'REGISTRY_NOPE']) {
      assert.ok(warnings.some((w) => w.includes(v) && w.includes('ignored')), `a warning names ${v}: ${warnings.join('; ')}`);
    }
  });

  it('rejects a value of the wrong type, naming the key', () => {
    assert.throws(() => loadConfig({ env: { REGISTRY_STORAGE_DELETE_ENABLED: 'maybe' } }), configError('storage.delete.enabled'));
  });

  it('treats a variable under an unimplemented key like the key in the file: a warning naming it', () => {
    const { warnings } = loadConfig({ env: { REGISTRY_HEALTH_STORAGEDRIVER_ENABLED: 'false', REGISTRY_REPORTING_BUGSNAG_APIKEY: 'x' } });
    assert.deepEqual(warnings.map((w) => w.split(':')[0]).sort(), ['reporting']);
  });

  it('reads Distribution\'s redis section from the file and REGISTRY_REDIS_* variables', () => {
    const text = `${DISTRIBUTION_CONFIG}redis:\n  addr: localhost:6379\n  password: asecret\n  db: 2\n  dialtimeout: 10ms\n  readtimeout: 10ms\n`
      + '  writetimeout: 10ms\n  pool:\n    maxidle: 16\n    maxactive: 64\n    idletimeout: 300s\n  tls:\n    enabled: false\n';
    const { config, warnings } = loadConfig({ file: file(text), env: { REGISTRY_REDIS_DB: '3' } });
    assert.deepEqual(warnings, []);
    assert.equal(config.redis?.addr, 'localhost:6379');
    assert.equal(config.redis?.password, 'asecret');
    assert.equal(config.redis?.db, 3);
    assert.equal(config.redis?.pool.maxactive, 64);
    assert.throws(() => loadConfig({ file: file(`${DISTRIBUTION_CONFIG}redis:\n  adr: localhost:6379\n`) }), configError('redis.adr'));
  });

  it('treats REGISTRY_STORAGE_S3_* like storage.s3 in the file, with Distribution\'s defaults', () => {
    assert.throws(() => loadConfig({ env: { REGISTRY_STORAGE_S3_REGION: 'us-east-1' } }), configError('storage.s3.bucket'));
    const { config } = loadConfig({ env: { REGISTRY_STORAGE_S3_REGION: 'eu-west-1', REGISTRY_STORAGE_S3_BUCKET: 'images', REGISTRY_STORAGE_S3_CHUNKSIZE: '6291456' } });
    assert.equal(config.storage.s3?.region, 'eu-west-1');
    assert.equal(config.storage.s3?.chunksize, 6291456);
    assert.equal(config.storage.s3?.multipartcopythresholdsize, 32 * 1024 * 1024);
    assert.equal(config.storage.s3?.secure, true);
  });

  it('cannot reach Object.prototype through a variable name', () => {
    const { warnings } = loadConfig({ env: { REGISTRY_CONSTRUCTOR: '1' } });
    assert.ok(warnings.some((w) => w.includes('REGISTRY_CONSTRUCTOR')));
    assert.equal(({} as Record<string, unknown>).constructor, Object);
    assert.throws(() => loadConfig({ env: { REGISTRY_HTTP_TOSTRING: '1' } }), ConfigError);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('loadConfig: errors', () => {
  it('names an unknown key and suggests the nearest valid one', async () => {
    const path = file('version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /x\n  delte:\n    enabled: true\n');
    assert.throws(() => loadConfig({ file: path }), configError('storage.delte', 'did you mean storage.delete'));
  });

  it('suggests the nearest key at the top level and deep down', async () => {
    assert.throws(() => loadConfig({ file: file('version: 0.1\nstorag:\n  inmemory:\n') }), configError('storag', 'storage'));
    assert.throws(() => loadConfig({ file: file('version: 0.1\nhttp:\n  adr: :5000\n') }), configError('http.adr', 'http.addr'));
    const deep = 'version: 0.1\nstorage:\n  maintenance:\n    uploadpurging:\n      intervall: 1h\n';
    assert.throws(() => loadConfig({ file: file(deep) }), configError('storage.maintenance.uploadpurging.intervall', 'interval'));
  });

  it('names the file in the error', async () => {
    const path = file('version: 0.1\nbogus: 1\n');
    assert.throws(() => loadConfig({ file: path }), configError(path, 'bogus'));
  });

  it('rejects two storage drivers', async () => {
    const path = file('version: 0.1\nstorage:\n  inmemory:\n  filesystem:\n    rootdirectory: /x\n');
    assert.throws(() => loadConfig({ file: path }), configError('more than one driver', 'filesystem', 'inmemory'));
  });

  it('rejects an in-memory file config combined with a filesystem variable as two drivers', async () => {
    const path = file('version: 0.1\nstorage:\n  inmemory:\n');
    assert.throws(() => loadConfig({ file: path, env: { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/x' } }), configError('more than one driver'));
  });

  it('accepts storage.s3 with Distribution\'s keys and refuses a chunk size S3 would reject', async () => {
    const path = file('version: 0.1\nstorage:\n  s3:\n    region: us-east-1\n    bucket: images\n    regionendpoint: http://127.0.0.1:7480\n    forcepathstyle: true\n    rootdirectory: /reg\n    encrypt: false\n    secure: false\n    v4auth: true\n');
    const { config, warnings } = loadConfig({ file: path });
    assert.equal(config.storage.s3?.bucket, 'images');
    assert.equal(config.storage.s3?.rootdirectory, '/reg');
    assert.deepEqual(warnings, []);
    const small = file('version: 0.1\nstorage:\n  s3:\n    region: us-east-1\n    bucket: images\n    chunksize: 1048576\n');
    assert.throws(() => loadConfig({ file: small }), configError('storage.s3.chunksize'));
  });

  it('rejects a bad duration, naming the key', async () => {
    const cases: Array<[string, string]> = [
      ['storage:\n  maintenance:\n    uploadpurging:\n      age: 10 days\n', 'storage.maintenance.uploadpurging.age'],
      ['storage:\n  maintenance:\n    uploadpurging:\n      interval: 24\n', 'storage.maintenance.uploadpurging.interval'],
      ['http:\n  draintimeout: 1d\n', 'http.draintimeout'],
      ['http:\n  draintimeout: -5s\n', 'http.draintimeout'],
      ['http:\n  timeouts:\n    bodyidle: 1 minute\n', 'http.timeouts.bodyidle'],
    ];
    for (const [yaml, key] of cases) {
      const path = file(`version: 0.1\n${yaml}`);
      assert.throws(() => loadConfig({ file: path }), configError(key), yaml);
    }
  });

  it('defaults the body idle timeout and the per-client connection limit, and takes both from REGISTRY_*', async () => {
    const { config } = loadConfig({ env: {} });
    assert.equal(config.http.timeouts.bodyidle, 60_000);
    assert.equal(config.http.limits.maxconnectionsperclient, 256);
    const set = loadConfig({ env: { REGISTRY_HTTP_TIMEOUTS_BODYIDLE: '2m', REGISTRY_HTTP_LIMITS_MAXCONNECTIONSPERCLIENT: '0' } }).config;
    assert.equal(set.http.timeouts.bodyidle, 120_000);
    assert.equal(set.http.limits.maxconnectionsperclient, 0);
    assert.throws(() => loadConfig({ env: { REGISTRY_HTTP_LIMITS_MAXCONNECTIONSPERCLIENT: '-1' } }), configError('http.limits.maxconnectionsperclient'));
  });

  it('rejects a listen address that is not HOST:PORT', async () => {
    assert.throws(() => loadConfig({ file: file('version: 0.1\nhttp:\n  addr: nowhere\n') }), configError('http.addr', 'nowhere'));
    assert.throws(() => loadConfig({ env: { REGISTRY_HTTP_ADDR: '127.0.0.1:70000' } }), configError('http.addr'));
  });

  it('accepts any path as a unix socket address', async () => {
    const { config } = loadConfig({ file: file('version: 0.1\nhttp:\n  net: unix\n  addr: /run/berth.sock\n') });
    assert.equal(config.http.addr, '/run/berth.sock');
  });

  it('rejects a version other than 0.1', async () => {
    assert.throws(() => loadConfig({ file: file('version: 0.2\n') }), configError('version'));
  });

  it('rejects a log level Distribution does not know', async () => {
    assert.throws(() => loadConfig({ file: file('version: 0.1\nlog:\n  level: verbose\n') }), configError('log.level'));
  });

  it('rejects a missing file, invalid YAML and a top level that is not a mapping', async () => {
    assert.throws(() => loadConfig({ file: join(dir, 'does-not-exist.yml') }), configError('cannot read'));
    assert.throws(() => loadConfig({ file: file('version: [0.1\n') }), configError('YAML'));
    assert.throws(() => loadConfig({ file: file('- a\n- b\n') }), configError('mapping'));
  });

  it('reports every problem at once', async () => {
    const path = file('version: 0.1\nstorag: {}\nhttp:\n  adr: x\n');
    assert.throws(() => loadConfig({ file: path }), configError('storag', 'http.adr'));
  });

  it('does not let a __proto__ key pollute objects', async () => {
    try {
      loadConfig({ file: file('version: 0.1\n__proto__:\n  polluted: true\nhttp:\n  __proto__:\n    polluted: true\n') });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});


describe('parseListenAddress', () => {
  const good: Array<[string, { host: string; port: number }]> = [
    [':5000', { host: '0.0.0.0', port: 5000 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    ['[::1]:5000', { host: '::1', port: 5000 }],
    ['0.0.0.0:65535', { host: '0.0.0.0', port: 65535 }],
  ];
  for (const [addr, expected] of good) {
    it(`reads ${addr}`, () => assert.deepEqual(parseListenAddress(addr), expected));
  }
  for (const addr of ['', '5000', ':', 'host:', 'host:65536', 'host:99999', '1.2.3.4:5:6', '::1:5000', 'host:5000x', 'host:-1']) {
    it(`rejects ${JSON.stringify(addr)}`, () => assert.throws(() => parseListenAddress(addr), /HOST:PORT/));
  }
});

describe('parseDuration', () => {
  const good: Array<[string, number]> = [
    ['0', 0], ['0s', 0], ['10s', 10_000], ['500ms', 500], ['1.5s', 1500], ['168h', 168 * 3_600_000],
    ['24h', 86_400_000], ['1h30m', 5_400_000], ['2m3s', 123_000], ['1000us', 1], ['1000µs', 1], ['1000000ns', 1],
  ];
  for (const [text, ms] of good) {
    it(`reads ${text} as ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }
  for (const text of ['', '10', 'h', '1d', '10 s', '1h 30m', '-1h', '1.h', 's10', '10S', '1h30', 'forever']) {
    it(`rejects ${JSON.stringify(text)}`, () => assert.throws(() => parseDuration(text), /invalid duration/));
  }
});
