// `berth configure`: the files it writes for containerd, Docker and Podman (merged, backed up,
// untouched on --dry-run), then real daemons using them: a private containerd pulls through the
// mirror with ctr --hosts-dir, and a private dockerd pulls from an insecure Berth through its
// registry-mirrors and loads a `berth save` tarball.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { parse as parseToml } from 'smol-toml';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { buildLabImages, type LabImages } from '../e2e/support/images.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { berthOk, runBerth } from '../support/cli.js';
import { startContainerd } from '../e2e/support/containerd-process.js';
import { startDockerd } from '../e2e/support/dockerd-process.js';

/** A TOML document as plain objects (smol-toml's tables have no prototype). */
const parse = (text: string): Record<string, any> => JSON.parse(JSON.stringify(parseToml(text)));

describe('berth configure: files', () => {
  let root: string;
  before(async () => {
    root = await tempDir('tools-configure');
  });
  after(async () => removeDir(root));

  it('writes nothing on --dry-run and prints the diff', async () => {
    const dry = join(root, 'dry');
    await mkdir(dry);
    for (const client of ['containerd', 'docker', 'podman']) {
      const r = await berthOk(['configure', client, '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--plain-http', '--insecure', '--root', dry, '--dry-run']);
      assert.match(r.stdout, /^\+\+\+ /m);
      assert.match(r.stdout, /reg\.example:5000/);
    }
    assert.deepEqual(await readdir(dry), []);
  });

  it('containerd: hosts.toml for the mirror, and config_path added to the 1.x CRI section', async () => {
    const r = join(root, 'ctr1');
    await mkdir(join(r, 'etc/containerd'), { recursive: true });
    const original = 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "pause:3.9"\n\n[plugins."io.containerd.grpc.v1.cri".registry]\n  mirrors = {}\n';
    await writeFile(join(r, 'etc/containerd/config.toml'), original);
    const out = await berthOk(['configure', 'containerd', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--insecure', '--plain-http', '--root', r, '--max-concurrent-downloads', '6']);
    assert.match(out.stdout, /systemctl restart containerd/);
    const hosts = await readFile(join(r, 'etc/containerd/certs.d/docker.io/hosts.toml'), 'utf8');
    assert.match(hosts, /^server = "https:\/\/registry-1\.docker\.io"$/m);
    assert.match(hosts, /^\[host\."http:\/\/reg\.example:5000"\]$/m);
    assert.deepEqual(parse(hosts).host, { 'http://reg.example:5000': { capabilities: ['pull', 'resolve'] } });
    const config = parse(await readFile(join(r, 'etc/containerd/config.toml'), 'utf8'));
    // The empty legacy `mirrors = {}` goes: beside config_path, containerd would not load CRI.
    assert.deepEqual(config, { version: 2, plugins: { 'io.containerd.grpc.v1.cri': { sandbox_image: 'pause:3.9', max_concurrent_downloads: 6, registry: { config_path: '/etc/containerd/certs.d' } } } });
    const backups = (await readdir(join(r, 'etc/containerd'))).filter((f) => f.startsWith('config.toml.berth-backup-'));
    assert.equal(backups.length, 1);
    assert.equal(await readFile(join(r, 'etc/containerd', backups[0]!), 'utf8'), original);
  });

  it('containerd 2.x: config_path goes to the io.containerd.cri.v1.images section; an existing one is kept and named', async () => {
    const r = join(root, 'ctr2');
    await mkdir(join(r, 'etc/containerd'), { recursive: true });
    await writeFile(join(r, 'etc/containerd/config.toml'), 'version = 3\n');
    await berthOk(['configure', 'containerd', '--registry', 'reg.example', '--root', r]);
    assert.deepEqual(parse(await readFile(join(r, 'etc/containerd/config.toml'), 'utf8')), { version: 3, plugins: { 'io.containerd.cri.v1.images': { registry: { config_path: '/etc/containerd/certs.d' } } } });
    const kept = join(root, 'ctr3');
    await mkdir(join(kept, 'etc/containerd'), { recursive: true });
    await writeFile(join(kept, 'etc/containerd/config.toml'), 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs"\n');
    const out = await berthOk(['configure', 'containerd', '--registry', 'reg.example', '--root', kept]);
    assert.match(out.stdout, /already sets config_path = "\/etc\/containerd\/certs"/);
    assert.match(await readFile(join(kept, 'etc/containerd/certs.d/reg.example/hosts.toml'), 'utf8'), /server = "https:\/\/reg\.example"/);
  });

  it('containerd: a CA is copied next to hosts.toml and referenced by it', async () => {
    const r = join(root, 'ca');
    const ca = join(root, 'ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    await berthOk(['configure', 'containerd', '--registry', 'reg.example:443', '--ca', ca, '--root', r]);
    assert.equal(await readFile(join(r, 'etc/containerd/certs.d/reg.example:443/ca.crt'), 'utf8'), await readFile(ca, 'utf8'));
    assert.match(await readFile(join(r, 'etc/containerd/certs.d/reg.example:443/hosts.toml'), 'utf8'), /ca = "ca\.crt"/);
    const both = await runBerth(['configure', 'docker', '--registry', 'reg.example', '--ca', ca, '--insecure', '--root', r]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /--insecure and --ca exclude each other/);
  });

  it('docker: daemon.json merged with what is there, certs.d for the CA, a backup of the old file', async () => {
    const r = join(root, 'docker');
    await mkdir(join(r, 'etc/docker'), { recursive: true });
    await writeFile(join(r, 'etc/docker/daemon.json'), JSON.stringify({ 'log-driver': 'journald', 'insecure-registries': ['old.example:5000'] }));
    const ca = join(root, 'ca.pem');
    await berthOk(['configure', 'docker', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--root', r, '--ca', ca, '--max-concurrent-downloads', '2']);
    const doc = JSON.parse(await readFile(join(r, 'etc/docker/daemon.json'), 'utf8'));
    assert.deepEqual(doc, { 'log-driver': 'journald', 'insecure-registries': ['old.example:5000'], 'registry-mirrors': ['https://reg.example:5000'], 'max-concurrent-downloads': 2 });
    assert.ok((await readFile(join(r, 'etc/docker/certs.d/reg.example:5000/ca.crt'), 'utf8')).includes('BEGIN CERTIFICATE'));
    const second = await berthOk(['configure', 'docker', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--root', r, '--ca', ca, '--max-concurrent-downloads', '2']);
    assert.match(second.stdout, /nothing to change/);
    assert.equal((await readdir(join(r, 'etc/docker'))).filter((f) => f.includes('berth-backup')).length, 1);
  });

  it('podman: a [[registry]] block that a second run replaces instead of duplicating', async () => {
    const r = join(root, 'podman');
    await mkdir(join(r, 'etc/containers'), { recursive: true });
    await writeFile(join(r, 'etc/containers/registries.conf'), 'unqualified-search-registries = ["docker.io"]\n');
    await berthOk(['configure', 'podman', '--registry', 'reg.example:5000', '--mirror-of', 'docker.io', '--insecure', '--plain-http', '--root', r]);
    await berthOk(['configure', 'podman', '--registry', 'reg2.example:5000', '--mirror-of', 'docker.io', '--root', r]);
    const conf = await readFile(join(r, 'etc/containers/registries.conf'), 'utf8');
    assert.equal(conf.match(/\[\[registry\]\]/g)?.length, 1);
    assert.match(conf, /^unqualified-search-registries/);
    assert.match(conf, /\[\[registry\.mirror\]\]\nlocation = "reg2\.example:5000"\ninsecure = false/);
  });

  it('a Berth upstream prefix: podman mirrors to HOST/PREFIX, containerd leaves it out and says why, docker refuses it', async () => {
    const r = join(root, 'prefix');
    const args = (client: string) => ['configure', client, '--registry', 'reg.example:5000/dockerhub', '--mirror-of', 'docker.io', '--plain-http', '--root', r];
    await berthOk(args('podman'));
    assert.match(await readFile(join(r, 'etc/containers/registries.conf'), 'utf8'), /\[\[registry\.mirror\]\]\nlocation = "reg\.example:5000\/dockerhub"\ninsecure = true/);
    const ctr = await berthOk(args('containerd'));
    const hosts = await readFile(join(r, 'etc/containerd/certs.d/docker.io/hosts.toml'), 'utf8');
    assert.match(hosts, /^\[host\."http:\/\/reg\.example:5000"\]$/m);
    assert.doesNotMatch(hosts, /dockerhub/);
    assert.match(ctr.stdout, /note: hosts\.toml names reg\.example:5000 without \/dockerhub: containerd sends \?ns=docker\.io .* namespaces: \[docker\.io\]/);
    const docker = await runBerth(args('docker'));
    assert.equal(docker.code, 1);
    assert.match(docker.stderr, /registry-mirrors cannot carry a path/);
    assert.match(docker.stderr, /"dockerhub" root: true/);
    assert.match(docker.stderr, /berth configure docker --registry reg\.example:5000 --mirror-of docker\.io$/m);
    await assert.rejects(readFile(join(r, 'etc/docker/daemon.json')), { code: 'ENOENT' });
  });

  it('refuses a prefix that is not a repository path, one without --mirror-of, and one for a kubernetes Secret', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['podman', '--registry', 'reg.example/Hub', '--mirror-of', 'docker.io'], /"Hub" after the host is not a repository path/],
      [['podman', '--registry', 'reg.example//x', '--mirror-of', 'docker.io'], /not a repository path/],
      [['podman', '--registry', 'reg.example/dockerhub'], /needs --mirror-of .* name it in the image: reg\.example\/dockerhub\/IMAGE/],
      [['kubernetes', '--registry', 'reg.example/dockerhub', '--creds', 'a:b'], /a pull Secret is for a host; give --registry reg\.example /],
    ];
    for (const [args, message] of cases) {
      const r = await runBerth(['configure', ...args, '--root', join(root, 'refused')]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, message);
    }
    await assert.rejects(readdir(join(root, 'refused')), { code: 'ENOENT' });
  });

  it('--help says how each client reaches a prefixed upstream', async () => {
    const help = (await berthOk(['configure', '--help'])).stdout;
    assert.match(help, /--registry <host\[:port\]\[\/prefix\]>/);
    assert.match(help, /podman +--registry HOST:PORT\/dockerhub/);
    assert.match(help, /containerd adds \?ns=docker\.io/);
    assert.match(help, /registry-mirrors cannot carry a path/);
  });

  it('kubernetes: prints a dockerconfigjson pull Secret', async () => {
    const r = await berthOk(['configure', 'kubernetes', '--registry', 'reg.example', '--creds', 'robot:s3cret', '--namespace', 'apps']);
    assert.match(r.stdout, /type: kubernetes\.io\/dockerconfigjson/);
    const data = /\.dockerconfigjson: (\S+)/.exec(r.stdout)![1]!;
    assert.deepEqual(JSON.parse(Buffer.from(data, 'base64').toString()), { auths: { 'reg.example': { username: 'robot', password: 's3cret', auth: Buffer.from('robot:s3cret').toString('base64') } } });
  });
});

const daemons = requireClients('containerd', 'ctr', 'dockerd', 'skopeo');

describe('berth configure: real daemons', { skip: daemons.skip }, () => {
  let work: string;
  let images: LabImages;
  let reg: TestRegistry;

  before(async () => {
    daemons.assertPresent();
    work = await tempDir('tools-daemons');
    images = await buildLabImages(join(work, 'images'));
    reg = await startTestRegistry();
    await berthOk(['copy', '-q', images.oci('tiny'), `docker://${reg.host}/lab/tiny:v1`]);
    await berthOk(['copy', '-q', '--all', images.oci('multiarch'), `docker://${reg.host}/lab/multiarch:v1`]);
  });
  after(async () => {
    await reg?.close();
    await removeDir(work);
  });

  it('a private containerd pulls docker.io/lab/tiny through the mirror berth configured', async () => {
    const root = join(work, 'containerd-root');
    await berthOk(['configure', 'containerd', '--registry', reg.host, '--mirror-of', 'docker.io', '--insecure', '--root', root]);
    const hostsDir = join(root, 'etc/containerd/certs.d');
    const containerd = await startContainerd(join(work, 'containerd'), 'berth-test');
    try {
      const pull = await containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir, 'docker.io/lab/tiny:v1']);
      assert.equal(pull.code, 0, `${pull.stdout}\n${pull.stderr}`);
      const list = await containerd.ctr(['images', 'ls']);
      assert.match(list.stdout, new RegExp(`docker\\.io/lab/tiny:v1\\s+\\S+\\s+${images.digest('tiny')}`));
      const direct = await containerd.ctr(['images', 'pull', '--hosts-dir', hostsDir, '--platform', 'linux/arm64', 'docker.io/lab/multiarch:v1']);
      assert.equal(direct.code, 0, direct.stderr);
    } finally {
      await containerd.stop();
    }
  });

  it('a private dockerd pulls from an insecure Berth through registry-mirrors and loads a berth save tarball', async () => {
    const root = join(work, 'docker-root');
    await berthOk(['configure', 'docker', '--registry', reg.host, '--mirror-of', 'docker.io', '--insecure', '--root', root]);
    const daemonJson = join(root, 'etc/docker/daemon.json');
    assert.deepEqual(JSON.parse(await readFile(daemonJson, 'utf8'))['insecure-registries'], [reg.host]);
    const tar = join(work, 'saved.tar');
    await berthOk(['save', '-q', '--platform', 'linux/arm64', `${reg.host}/lab/multiarch:v1`, `${reg.host}/lab/tiny:v1`, '-o', tar]);
    const dockerd = await startDockerd({ dir: join(work, 'dockerd'), daemonJson });
    try {
      const pull = await dockerd.docker(['pull', 'lab/tiny:v1']);
      assert.equal(pull.code, 0, `${pull.stderr}\n${dockerd.logs().slice(-2000)}`);
      const digests = await dockerd.docker(['image', 'inspect', '-f', '{{range .RepoDigests}}{{println .}}{{end}}', 'lab/tiny:v1']);
      assert.match(digests.stdout, new RegExp(`lab/tiny@${images.digest('tiny')}`));
      const load = await dockerd.docker(['load', '-i', tar]);
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stdout, new RegExp(`Loaded image: ${reg.host.replace(/\./g, '\\.')}/lab/multiarch:v1`));
      const arch = await dockerd.docker(['image', 'inspect', '-f', '{{.Architecture}}', `${reg.host}/lab/multiarch:v1`]);
      assert.equal(arch.stdout.trim(), 'arm64');
      const tiny = await dockerd.docker(['create', `${reg.host}/lab/tiny:v1`, '/hello.txt']);
      assert.equal(tiny.code, 0, tiny.stderr);
    } finally {
      await dockerd.stop();
    }
  });
});
