// `berth doctor` reading client configuration the way the clients do: REGISTRY as a URL, the API
// checks going on over HTTP after "HTTP addressed as HTTPS", containerd's legacy mirrors beside
// config_path, a mirror named in certs.d/<upstream>/hosts.toml (and one given push), dockerd's
// insecure-registries forms and registry-mirrors, registries.conf v1/v2/drop-ins/rootless, and a
// running dockerd that was not restarted after daemon.json changed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { requireClients, tempDir, removeDir } from '../e2e/support/env.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';
import { startAuthProxy, type AuthProxy } from './support/auth-proxy.js';
import { runBerth } from '../support/cli.js';
import { startDockerd } from '../e2e/support/dockerd-process.js';

interface Finding { id: string; status: string; what: string; why?: string; fix?: string[] }
interface Report { ok: boolean; findings: Finding[] }

async function doctor(args: string[], env: Record<string, string> = {}): Promise<{ code: number; report: Report }> {
  const r = await runBerth(['doctor', ...args, '--json'], { DOCKER_CONFIG: '/nonexistent-docker-config', DOCKER_HOST: '', HOME: '/home/berth-test', ...env });
  try {
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  } catch {
    throw new Error(`doctor printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

const ids = (report: Report) => report.findings.map((x) => `${x.id}:${x.status}`);

function finding(report: Report, id: string): Finding {
  const f = report.findings.find((x) => x.id === id);
  assert.ok(f, `no finding ${id} in ${JSON.stringify(ids(report))}`);
  return f;
}

function noFinding(report: Report, id: string): void {
  assert.ok(!report.findings.some((x) => x.id === id), `unexpected ${id} in ${JSON.stringify(ids(report))}`);
}

async function put(root: string, path: string, content: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
}

// Nothing answers there: the local checks run with what --plain-http says, and quickly.
const UNREACHABLE = '192.0.2.1:5000';
const offline = (root: string) => [UNREACHABLE, '--plain-http', '--timeout', '300', '--root', root];

describe('berth doctor: addresses and configuration files', () => {
  let work: string;
  let reg: TestRegistry;
  let proxy: AuthProxy;

  before(async () => {
    work = await tempDir('tools-doctor-config');
    reg = await startTestRegistry();
    const config = blob('{"architecture":"amd64","os":"linux"}');
    const layer = randomBlob(1024);
    await pushImage(reg.url, 'lab/app', 'v1', config, [layer], imageManifest(config, [layer]));
    proxy = await startAuthProxy({ upstream: reg.url, mode: 'basic', user: 'alice', password: 'secret' });
  });
  after(async () => {
    await proxy?.close();
    await reg?.close();
    await removeDir(work);
  });

  it('accepts http://HOST:PORT as REGISTRY (plain HTTP) and refuses a path', async () => {
    const { code, report } = await doctor([`http://${reg.host}`, 'lab/app:v1', '--no-local']);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(finding(report, 'image.blob').status, 'ok');
    noFinding(report, 'tls.http-server');
    const withPath = await runBerth(['doctor', `http://${reg.host}/v2/`, '--no-local']);
    assert.equal(withPath.code, 2);
    assert.match(withPath.stderr, /REGISTRY must be HOST\[:PORT\], http:\/\/HOST\[:PORT\] or https:\/\/HOST\[:PORT\]/);
  });

  it('accepts https://HOST:PORT as REGISTRY and checks TLS', async () => {
    const { code, report } = await doctor([`https://${reg.host}`, '--no-local']);
    assert.equal(code, 1);
    finding(report, 'tls.http-server');
  });

  it('after "HTTP addressed as HTTPS" goes on over HTTP and still finds a wrong password', async () => {
    const { code, report } = await doctor([proxy.host, 'lab/app:v1', '--creds', 'alice:wrong', '--no-local']);
    assert.equal(code, 1);
    finding(report, 'tls.http-server');
    assert.match(finding(report, 'login.refused').what, /refused the credentials of alice/);
  });

  it('containerd: config_path beside legacy registry.mirrors is a failure, with the fix; berth configure clears it', async () => {
    const root = join(work, 'legacy');
    await put(root, 'etc/containerd/config.toml', [
      'version = 2',
      '[plugins."io.containerd.grpc.v1.cri".registry]',
      '  config_path = "/etc/containerd/certs.d"',
      '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]',
      `  endpoint = ["http://${UNREACHABLE}"]`,
      '',
    ].join('\n'));
    const { code, report } = await doctor(offline(root));
    assert.equal(code, 1);
    const f = finding(report, 'containerd.legacy-conflict');
    assert.equal(f.status, 'fail');
    assert.match(f.what, /registry\.mirrors \(docker\.io\)/);
    assert.match(f.why!, /refuses to load its CRI plugin/);
    assert.ok(f.fix!.some((x) => x.startsWith(`berth configure containerd --registry ${UNREACHABLE}`)));
    const fixed = await runBerth(['configure', 'containerd', '--registry', UNREACHABLE, '--plain-http', '--insecure', '--root', root]);
    assert.equal(fixed.code, 0, fixed.stderr);
    const again = await doctor(offline(root));
    noFinding(again.report, 'containerd.legacy-conflict');
    assert.equal(finding(again.report, 'containerd.mirror').status, 'ok');
  });

  it('containerd: reads the mirror from certs.d/<upstream>/hosts.toml, and flags push on a mirror', async () => {
    const root = join(work, 'mirror');
    await put(root, 'etc/containerd/config.toml', 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n');
    await put(root, 'etc/containerd/certs.d/docker.io/hosts.toml', `server = "https://registry-1.docker.io"\n\n[host."http://${UNREACHABLE}"]\n  capabilities = ["pull", "resolve"]\n`);
    const good = await doctor(offline(root));
    assert.match(finding(good.report, 'containerd.mirror').what, /docker\.io\/hosts\.toml uses http:\/\/192\.0\.2\.1:5000 as a mirror of docker\.io/);
    noFinding(good.report, 'containerd.hosts-missing');
    await put(root, 'etc/containerd/certs.d/docker.io/hosts.toml', `server = "https://registry-1.docker.io"\n\n[host."http://${UNREACHABLE}"]\n  capabilities = ["pull", "resolve", "push"]\n`);
    const push = await doctor(offline(root));
    const f = finding(push.report, 'containerd.mirror-push');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.fix, [`in /etc/containerd/certs.d/docker.io/hosts.toml under [host."http://${UNREACHABLE}"]: capabilities = ["pull", "resolve"]`]);
  });

  it('docker: insecure-registries with an http:// prefix or a CIDR, and registry-mirrors', async () => {
    for (const entry of [`http://${UNREACHABLE}`, '192.0.2.0/24']) {
      const root = join(work, `docker-${entry.replace(/\W/g, '_')}`);
      await put(root, 'etc/docker/daemon.json', JSON.stringify({ 'insecure-registries': [entry], 'registry-mirrors': [`http://${UNREACHABLE}/`] }));
      const { report } = await doctor(offline(root));
      noFinding(report, 'docker.insecure-missing');
      assert.match(finding(report, 'docker.mirror').what, /registry-mirrors uses http:\/\/192\.0\.2\.1:5000 as the mirror of docker\.io/);
    }
    const root = join(work, 'docker-missing');
    await put(root, 'etc/docker/daemon.json', JSON.stringify({ 'insecure-registries': ['192.0.3.0/24'] }));
    finding((await doctor(offline(root))).report, 'docker.insecure-missing');
  });

  it('podman: registries.conf v1, v2 in any key order, drop-ins and the rootless user file', async () => {
    const cases: Array<[string, string, string]> = [
      ['v1', 'etc/containers/registries.conf', `[registries.insecure]\nregistries = ["${UNREACHABLE}"]\n`],
      ['v2-order', 'etc/containers/registries.conf', `[[registry]]\ninsecure = true\nprefix = "${UNREACHABLE}"\nlocation = "${UNREACHABLE}"\n`],
      ['drop-in', 'etc/containers/registries.conf.d/50-lab.conf', `[[registry]]\nlocation = "${UNREACHABLE}"\ninsecure = true\n`],
      ['rootless', 'home/berth-test/.config/containers/registries.conf', `[[registry]]\nlocation = "${UNREACHABLE}"\ninsecure = true\n`],
      ['mirror', 'etc/containers/registries.conf', `[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "${UNREACHABLE}/dockerhub"\ninsecure = true\n`],
    ];
    for (const [name, path, content] of cases) {
      const root = join(work, `podman-${name}`);
      if (name !== 'v1' && name !== 'v2-order' && name !== 'mirror') await put(root, 'etc/containers/registries.conf', 'unqualified-search-registries = ["docker.io"]\n');
      await put(root, path, content);
      const { report } = await doctor(offline(root));
      noFinding(report, 'podman.insecure-missing');
      assert.ok(report.findings.some((f) => f.id.startsWith('podman') && f.status === 'ok'), `${name}: ${JSON.stringify(ids(report))}`);
    }
    const root = join(work, 'podman-secure');
    await put(root, 'etc/containers/registries.conf', `[[registry]]\nlocation = "${UNREACHABLE}"\ninsecure = false\n`);
    finding((await doctor(offline(root))).report, 'podman.insecure-missing');
  });
});

const daemons = requireClients('dockerd');

describe('berth doctor: a running dockerd that was not restarted', { skip: daemons.skip }, () => {
  let work: string;
  before(async () => {
    daemons.assertPresent();
    work = await tempDir('tools-doctor-daemon');
  });
  after(async () => removeDir(work));

  it('daemon.json names a mirror the running dockerd does not use: restart it', async () => {
    const dockerd = await startDockerd({ dir: join(work, 'dockerd') });
    try {
      const root = join(work, 'root');
      await put(root, 'etc/docker/daemon.json', JSON.stringify({ 'registry-mirrors': [`http://${UNREACHABLE}`] }));
      const { report } = await doctor(offline(root), { DOCKER_HOST: `unix://${dockerd.socket}` });
      const f = finding(report, 'docker.not-restarted');
      assert.equal(f.status, 'fail');
      assert.match(f.what, /registry-mirrors has http:\/\/192\.0\.2\.1:5000, the running dockerd does not/);
      assert.match(f.fix![0]!, /systemctl reload docker/);
      // Not asked when --root names other files and no daemon is given.
      noFinding((await doctor(offline(root))).report, 'docker.not-restarted');
    } finally {
      await dockerd.stop();
    }
  });
});
