// `berth configure containerd` on a config.toml with the legacy CRI registry.mirrors and
// registry.configs TLS: they move into hosts.toml (order kept, backup, diff), credentials stay
// in configs."host".auth, and a real containerd then loads its CRI plugin. `--creds` writes CRI
// auth. Podman's registries.conf is read and written as TOML, v1 files converted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { parse as parseToml, stringify } from 'smol-toml';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { berthOk, runBerth } from '../support/cli.js';
import { criPluginStatus } from './support/containerd-cri.js';

/** A TOML document as plain objects (smol-toml's tables have no prototype). */
const parse = (text: string): Record<string, any> => JSON.parse(JSON.stringify(parseToml(text)));

const CRI = 'plugins."io.containerd.grpc.v1.cri".registry';
const LEGACY = `version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "pause:3.9"
  [${CRI}]
    [${CRI}.mirrors]
      [${CRI}.mirrors."docker.io"]
        endpoint = ["https://mirror-a.example", "http://mirror-b.example:5000", "https://registry-1.docker.io"]
      [${CRI}.mirrors."quay.io"]
        endpoint = ["https://harbor.example/v2/quay"]
      [${CRI}.mirrors."local.example:5000"]
        endpoint = ["http://local.example:5000"]
    [${CRI}.configs]
      [${CRI}.configs."mirror-a.example".tls]
        ca_file = "/etc/ssl/mirror-a.pem"
      [${CRI}.configs."mirror-a.example".auth]
        username = "puller"
        password = "p4ss-w0rd"
      [${CRI}.configs."secure.example".tls]
        insecure_skip_verify = true
`;

describe('berth configure containerd: legacy registry.mirrors', () => {
  let root: string;
  before(async () => {
    root = await tempDir('tools-legacy');
  });
  after(async () => removeDir(root));

  async function legacyRoot(name: string): Promise<string> {
    const r = join(root, name);
    await mkdir(join(r, 'etc/containerd'), { recursive: true });
    await writeFile(join(r, 'etc/containerd/config.toml'), LEGACY);
    return r;
  }

  it('moves mirrors and configs TLS into hosts.toml, keeps the order and the auth, removes the legacy keys', async () => {
    const r = await legacyRoot('migrate');
    const dry = await berthOk(['configure', 'containerd', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--plain-http', '--insecure', '--root', r, '--dry-run']);
    assert.match(dry.stdout, /^\+\+\+ .*certs\.d\/quay\.io\/hosts\.toml/m);
    assert.match(dry.stdout, /^-\s*\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.mirrors\."docker\.io"\]/m);
    assert.doesNotMatch(dry.stdout, /p4ss-w0rd/);
    assert.equal(await readFile(join(r, 'etc/containerd/config.toml'), 'utf8'), LEGACY);

    const out = await berthOk(['configure', 'containerd', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--plain-http', '--insecure', '--root', r]);
    assert.match(out.stdout, /note: moved the legacy registry\.mirrors/);
    const certs = join(r, 'etc/containerd/certs.d');
    const docker = parse(await readFile(join(certs, 'docker.io/hosts.toml'), 'utf8'));
    assert.equal(docker.server, 'https://registry-1.docker.io');
    assert.deepEqual(Object.keys(docker.host as object), ['http://reg.example:5000', 'https://mirror-a.example', 'http://mirror-b.example:5000']);
    assert.deepEqual((docker.host as Record<string, unknown>)['https://mirror-a.example'], { capabilities: ['pull', 'resolve'], ca: '/etc/ssl/mirror-a.pem' });
    assert.deepEqual(parse(await readFile(join(certs, 'quay.io/hosts.toml'), 'utf8')),
      { server: 'https://quay.io', host: { 'https://harbor.example/v2/quay': { capabilities: ['pull', 'resolve'], override_path: true } } });
    assert.deepEqual(parse(await readFile(join(certs, 'local.example:5000/hosts.toml'), 'utf8')), { server: 'http://local.example:5000' });
    assert.deepEqual(parse(await readFile(join(certs, 'secure.example/hosts.toml'), 'utf8')), { server: 'https://secure.example', skip_verify: true });

    const config = parse(await readFile(join(r, 'etc/containerd/config.toml'), 'utf8'));
    assert.deepEqual((config.plugins as any)['io.containerd.grpc.v1.cri'].registry, {
      config_path: '/etc/containerd/certs.d',
      configs: { 'mirror-a.example': { auth: { username: 'puller', password: 'p4ss-w0rd' } } },
    });
    assert.equal((await stat(join(r, 'etc/containerd/config.toml'))).mode & 0o777, 0o600);
    const backups = (await readdir(join(r, 'etc/containerd'))).filter((f) => f.startsWith('config.toml.berth-backup-'));
    assert.equal(backups.length, 1);
    assert.equal(await readFile(join(r, 'etc/containerd', backups[0]!), 'utf8'), LEGACY);
  });

  it('refuses, with the steps, a legacy mirror it cannot express, and changes nothing', async () => {
    const r = join(root, 'refuse');
    await mkdir(join(r, 'etc/containerd'), { recursive: true });
    const text = `version = 2\n[${CRI}.mirrors."docker.io"]\n  endpoint = ["ftp://mirror.example"]\n`;
    await writeFile(join(r, 'etc/containerd/config.toml'), text);
    const res = await runBerth(['configure', 'containerd', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--root', r]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /"ftp:\/\/mirror\.example" is neither http:\/\/ nor https:\/\//);
    assert.match(res.stderr, /Steps: \(1\) write each mirror as \/etc\/containerd\/certs\.d\/<registry>\/hosts\.toml/);
    assert.equal(await readFile(join(r, 'etc/containerd/config.toml'), 'utf8'), text);
    await assert.rejects(readdir(join(r, 'etc/containerd/certs.d')), { code: 'ENOENT' });
  });

  it('--creds writes the CRI auth for the registry, 0600, and keeps the password out of the diff', async () => {
    const r = join(root, 'creds');
    const dry = await berthOk(['configure', 'containerd', '--registry', 'reg.example:5000', '--creds', 'robot:s3cret-pw', '--root', r, '--dry-run']);
    assert.doesNotMatch(dry.stdout, /s3cret-pw/);
    assert.match(dry.stdout, /password = "\*\*\*"/);
    await berthOk(['configure', 'containerd', '--registry', 'reg.example:5000', '--creds', 'robot:s3cret-pw', '--root', r]);
    const file = join(r, 'etc/containerd/config.toml');
    const config = parse(await readFile(file, 'utf8')) as any;
    assert.deepEqual(config.plugins['io.containerd.grpc.v1.cri'].registry.configs, { 'reg.example:5000': { auth: { username: 'robot', password: 's3cret-pw' } } });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const docker = await runBerth(['configure', 'docker', '--registry', 'reg.example:5000', '--creds', 'robot:x', '--root', r]);
    assert.equal(docker.code, 1);
    assert.match(docker.stderr, /docker login reg\.example:5000/);
  });

  it('podman: a v1 registries.conf becomes v2 with the same meaning, and the mirror is added', async () => {
    const r = join(root, 'podman-v1');
    await mkdir(join(r, 'etc/containers'), { recursive: true });
    await writeFile(join(r, 'etc/containers/registries.conf'), '[registries.search]\nregistries = ["docker.io"]\n\n[registries.insecure]\nregistries = ["old.example:5000"]\n');
    await berthOk(['configure', 'podman', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--plain-http', '--insecure', '--root', r]);
    const conf = parse(await readFile(join(r, 'etc/containers/registries.conf'), 'utf8'));
    assert.deepEqual(conf, {
      'unqualified-search-registries': ['docker.io'],
      registry: [{ location: 'old.example:5000', insecure: true }, { location: 'docker.io', mirror: [{ location: 'reg.example:5000', insecure: true }] }],
    });
  });
});

const gate = requireClients('containerd', 'ctr');

describe('berth configure containerd: a real containerd loads CRI after the migration', { skip: gate.skip }, () => {
  let work: string;
  before(async () => {
    gate.assertPresent();
    work = await tempDir('tools-legacy-cri');
  });
  after(async () => removeDir(work));

  it('CRI fails with config_path beside legacy mirrors, and loads from what berth configure wrote', async () => {
    const broken = parse(LEGACY) as any;
    broken.plugins['io.containerd.grpc.v1.cri'].registry.config_path = join(work, 'certs.d');
    assert.equal(await criPluginStatus(join(work, 'broken'), stringify(broken)), 'error');

    const r = join(work, 'root');
    await mkdir(join(r, 'etc/containerd'), { recursive: true });
    await writeFile(join(r, 'etc/containerd/config.toml'), LEGACY);
    await berthOk(['configure', 'containerd', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--plain-http', '--insecure', '--root', r]);
    assert.equal(await criPluginStatus(join(work, 'migrated'), await readFile(join(r, 'etc/containerd/config.toml'), 'utf8')), 'ok');
  });
});
