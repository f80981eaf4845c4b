// The pure pieces of the pull-through cache: the contract's configuration, name mapping, the
// circuit breaker and byte sizes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { CircuitBreaker } from '../../src/proxy/breaker.js';
import { NameMapper } from '../../src/proxy/name-mapping.js';
import { parseByteSize } from '../../src/config/size.js';
import { upstreamsFromConfig } from '../../src/proxy/upstreams.js';

const CONTRACT = `
version: 0.1
storage:
  inmemory: {}
proxy:
  upstreams:
    - name: dockerhub
      remoteurl: http://127.0.0.1:5001
      namespaces: [docker.io]
      username: alice
      password: secret
      ttl: 10m
      timeout: 30s
      tls:
        insecureskipverify: false
      maxsize: 10GiB
      maxage: 720h
    - name: ghcr
      remoteurl: https://ghcr.io
      namespaces: [ghcr.io]
      root: false
  eviction:
    interval: 10m
`;

describe('proxy configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-proxy-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (text: string) => {
    const path = join(dir, `c${Math.random()}.yml`);
    writeFileSync(path, text);
    return path;
  };

  it('loads the contract\'s example with its defaults, and no warnings', async () => {
    const { config, warnings } = loadConfig({ file: file(CONTRACT) });
    assert.deepEqual(warnings, []);
    const [hub, ghcr] = config.proxy.upstreams;
    // Resolved by the loader: bytes and milliseconds.
    assert.equal(hub?.maxsize, 10 * 2 ** 30);
    assert.equal(ghcr?.ttl, 600_000);
    assert.equal(ghcr?.timeout, 30_000);
    assert.equal(ghcr?.maxage, 0);
    assert.equal(config.proxy.eviction.interval, 600_000);
    const ups = upstreamsFromConfig(config);
    assert.deepEqual(ups.map((u) => [u.name, u.prefix, u.dockerHub, u.ttlMs, u.timeoutMs, u.maxBytes, u.maxAgeMs]), [
      ['dockerhub', 'dockerhub', true, 600_000, 30_000, 10 * 2 ** 30, 720 * 3_600_000], ['ghcr', 'ghcr', false, 600_000, 30_000, 0, 0],
    ]);
    await Promise.all(ups.map((u) => u.client.close()));
  });

  it('accepts Distribution\'s proxy keys as one root upstream named "default"', async () => {
    const { config } = loadConfig({ file: file('version: 0.1\nproxy:\n  remoteurl: https://registry-1.docker.io\n  username: a\n  password: b\n  ttl: 168h\n') });
    const [u] = upstreamsFromConfig(config);
    // As in Distribution: tags re-checked on every pull, `ttl` is the cached content's lifetime.
    assert.deepEqual([u?.name, u?.prefix, u?.root, u?.dockerHub, u?.ttlMs, u?.maxAgeMs], ['default', undefined, true, true, 0, 168 * 3_600_000]);
    await u?.client.close();
  });

  it('refuses two roots, a name used twice, a namespace claimed twice, remoteurl with upstreams, and a bad size', () => {
    const two = CONTRACT.replace('      root: false', '      root: true').replace('      maxage: 720h', '      maxage: 720h\n      root: true');
    assert.throws(() => loadConfig({ file: file(two) }), (e: unknown) => e instanceof ConfigError && /at most one upstream can be root/.test(e.message));
    const twice = CONTRACT.replace('name: ghcr', 'name: dockerhub').replace('[ghcr.io]', '[docker.io]');
    assert.throws(() => loadConfig({ file: file(twice) }), (e: unknown) => e instanceof ConfigError && /used twice/.test(e.message) && /claimed by both/.test(e.message));
    const both = CONTRACT.replace('proxy:\n', 'proxy:\n  remoteurl: https://x.example\n');
    assert.throws(() => loadConfig({ file: file(both) }), (e: unknown) => e instanceof ConfigError && /exclude each other/.test(e.message));
    assert.throws(() => loadConfig({ file: file(CONTRACT.replace('10GiB', '10 gigs')) }), ConfigError);
  });
});

describe('name mapping', () => {
  const u = (name: string, extra: Record<string, unknown> = {}) => ({ name, prefix: name, namespaces: [] as string[], root: false, dockerHub: false, remoteurl: `https://${name}`, ...extra });
  const hub = u('hub', { namespaces: ['docker.io'], dockerHub: true, root: true });
  const quay = u('quay', { namespaces: ['quay.io'] });
  const local = new Set(['mine/app']);
  const mapper = new NameMapper([hub, quay] as never, async (n) => local.has(n));
  const route = async (name: string, ns?: string) => {
    const r = await mapper.route(name, ns);
    return r && [r.upstream.name, r.remote, r.local];
  };

  it('maps prefixes, ?ns=, library/ (Docker Hub only), the root upstream, and leaves local names alone', async () => {
    assert.deepEqual(await route('hub/library/nginx'), ['hub', 'library/nginx', 'hub/library/nginx']);
    assert.deepEqual(await route('hub/nginx'), ['hub', 'library/nginx', 'hub/nginx']);
    assert.deepEqual(await route('nginx', 'docker.io'), ['hub', 'library/nginx', 'hub/library/nginx']);
    assert.deepEqual(await route('library/nginx', 'DOCKER.IO'), ['hub', 'library/nginx', 'hub/library/nginx']);
    assert.deepEqual(await route('coreos/etcd', 'quay.io'), ['quay', 'coreos/etcd', 'quay/coreos/etcd']);
    assert.deepEqual(await route('etcd', 'quay.io'), ['quay', 'etcd', 'quay/etcd']);
    assert.deepEqual(await route('busybox'), ['hub', 'library/busybox', 'hub/library/busybox']);
    assert.equal(await route('mine/app'), undefined);
    assert.equal(await route('mine/app', 'ghcr.io'), undefined);
    // Writes: only prefixes and claimed namespaces are caches; the root rule never refuses a push.
    assert.equal(mapper.owner('busybox', undefined), undefined);
    assert.equal(mapper.owner('quay/x', undefined)?.upstream.name, 'quay');
  });

  it('in Distribution mode, every name is the upstream\'s, unchanged (library/ added on Docker Hub)', async () => {
    const whole = new NameMapper([u('default', { prefix: undefined, dockerHub: true, root: true })] as never, async () => true);
    assert.deepEqual((await whole.route('team/app', undefined))?.local, 'team/app');
    assert.deepEqual((await whole.route('alpine', undefined))?.remote, 'library/alpine');
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures, lets one probe through after the cool-down, and closes on its success', () => {
    let now = 0;
    const b = new CircuitBreaker(3, 1000, () => now);
    b.failed();
    b.failed();
    b.succeeded();
    b.failed();
    b.failed();
    assert.equal(b.state, 'closed');
    b.failed();
    assert.equal(b.state, 'open');
    assert.equal(b.tryAcquire(), false);
    now = 999;
    assert.equal(b.tryAcquire(), false);
    now = 1000;
    assert.equal(b.state, 'half-open');
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false, 'one probe at a time');
    b.failed();
    assert.equal(b.state, 'open', 'a failed probe re-opens');
    now = 2000;
    assert.equal(b.tryAcquire(), true);
    b.succeeded();
    assert.equal(b.state, 'closed');
    assert.equal(b.tryAcquire(), true);
  });
});

describe('byte sizes', () => {
  it('reads binary and decimal units', () => {
    assert.equal(parseByteSize('0'), 0);
    assert.equal(parseByteSize('1024'), 1024);
    assert.equal(parseByteSize('10GiB'), 10 * 2 ** 30);
    assert.equal(parseByteSize('1.5MB'), 1_500_000);
    assert.throws(() => parseByteSize('ten'));
  });
});
