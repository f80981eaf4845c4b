// containerd's `ctr` against the real `berth serve`, through a private containerd daemon
// (native snapshotter): direct plain-HTTP pulls, Berth as the docker.io mirror through a
// hosts.toml in --hosts-dir (containerd adds ?ns=docker.io to every mirror request), and
// `ctr images push`, both of an image it pulled (cross-repository mount) and of an imported one
// (a real upload).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from '../support/berth-process.js';
import { startContainerd, type ContainerdProcess } from '../support/containerd-process.js';
import { removeDir, requireClients, tempDir } from '../support/env.js';
import { layoutBlob, type LabImages } from '../support/images.js';
import { sharedLabImages } from '../support/shared-images.js';
import { copy, inspectConfig, inspectRaw, sha256Of } from '../support/skopeo.js';

const gate = requireClients('containerd', 'ctr', 'skopeo');

it('has the clients it drives installed (containerd, ctr, skopeo)', { skip: gate.skip }, () => gate.assertPresent());

interface ManifestJson {
  config: { digest: string };
  layers: { digest: string }[];
}

interface IndexJson {
  manifests: { digest: string; platform?: { architecture: string } }[];
}

describe('containerd (ctr) against berth serve', { skip: gate.skip }, () => {
  let images: LabImages;
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  let containerd: ContainerdProcess | undefined;
  let host: string;
  let hostsDir: string;

  /** The manifest digest containerd recorded for `ref` (`ctr images ls`). */
  async function imageDigest(ref: string): Promise<string | undefined> {
    const out = await containerd!.mustCtr(['images', 'ls']);
    for (const line of out.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[0] === ref) return cols[2];
    }
    return undefined;
  }

  /** Pulls `ref` afresh; returns ctr's output (with --http-dump, the requests are in its log lines). */
  async function pull(ref: string, ...flags: string[]): Promise<string> {
    await containerd!.ctr(['images', 'rm', '--sync', ref]);
    const r = await containerd!.ctr(['images', 'pull', '--snapshotter', 'native', ...flags, ref]);
    assert.equal(r.code, 0, `ctr images pull ${flags.join(' ')} ${ref} failed:\n${r.stderr.slice(-3000)}`);
    return `${r.stdout}\n${r.stderr}`;
  }

  /** Every `hello.txt` the native snapshotter unpacked (plain directories, no mounts needed). */
  async function unpackedHello(): Promise<string[]> {
    const base = join(work!, 'containerd', 'root', 'io.containerd.snapshotter.v1.native', 'snapshots');
    const found: string[] = [];
    for (const id of await readdir(base).catch(() => [] as string[])) {
      const text = await readFile(join(base, id, 'hello.txt'), 'utf8').catch(() => undefined);
      if (text !== undefined) found.push(text);
    }
    return found;
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('containerd');
    images = await sharedLabImages();
    // Request logging on (info), to see which URLs containerd's mirror requests used.
    berth = await startBerth({ root: join(work, 'storage'), env: { REGISTRY_LOG_LEVEL: 'info', REGISTRY_LOG_ACCESSLOG_DISABLED: 'false' } });
    host = berth.host;
    for (const name of ['tiny', 'multilayer']) await copy(images.oci(name), `docker://${host}/lab/${name}:v1`);
    await copy(images.oci('multiarch'), `docker://${host}/lab/multiarch:v1`, { all: true });
    containerd = await startContainerd(join(work, 'containerd'));

    // hosts.toml: Berth is a pull/resolve mirror of docker.io (whose real server this machine
    // cannot reach, so a successful pull was served by Berth), and its own host for pushes.
    hostsDir = join(work, 'hosts.d');
    await mkdir(join(hostsDir, 'docker.io'), { recursive: true });
    await writeFile(join(hostsDir, 'docker.io', 'hosts.toml'), [
      'server = "https://registry-1.docker.io"',
      `[host."http://${host}"]`,
      '  capabilities = ["pull", "resolve"]',
      '',
    ].join('\n'));
    await mkdir(join(hostsDir, host), { recursive: true });
    await writeFile(join(hostsDir, host, 'hosts.toml'), [
      `server = "http://${host}"`,
      `[host."http://${host}"]`,
      '  capabilities = ["pull", "resolve", "push"]',
      '',
    ].join('\n'));
  });
  after(async () => {
    await containerd?.stop();
    await berth?.stop();
    await removeDir(work);
  });

  it('pulls directly with --plain-http and unpacks the layers', async () => {
    const ref = `${host}/lab/tiny:v1`;
    await pull(ref, '--plain-http');
    assert.equal(await imageDigest(ref), images.digest('tiny'));
    const check = await containerd!.mustCtr(['images', 'check']);
    assert.match(check, new RegExp(`^${ref.replace(/[.]/g, '\\.')}\\s.*complete \\(2/2\\)`, 'm'), check);
    assert.ok((await unpackedHello()).some((t) => t.includes('registry lab')), 'hello.txt unpacked by the native snapshotter');

    const multi = `${host}/lab/multilayer:v1`;
    await pull(multi, '--plain-http');
    assert.equal(await imageDigest(multi), images.digest('multilayer'));
    assert.match(await containerd!.mustCtr(['images', 'check']), /lab\/multilayer:v1\s.*complete \(6\/6\)/);
  });

  it('pulls from 127.0.0.1 without --plain-http (ctr speaks plain HTTP to localhost anyway)', async () => {
    const ref = `${host}/lab/tiny:v1`;
    const out = await pull(ref, '--http-dump');
    assert.equal(await imageDigest(ref), images.digest('tiny'));
    assert.ok(out.includes('HEAD /v2/lab/tiny/manifests/v1 HTTP/1.1'), 'no ?ns= on a direct pull');
  });

  it('pulls the multi-arch index for every platform, and arm64 alone', async () => {
    const ref = `${host}/lab/multiarch:v1`;
    await pull(ref, '--plain-http', '--all-platforms');
    assert.equal(await imageDigest(ref), images.digest('multiarch'));
    const index = JSON.parse(await containerd!.mustCtr(['content', 'get', images.digest('multiarch')])) as IndexJson;
    assert.deepEqual(index.manifests.map((m) => m.platform?.architecture), ['amd64', 'arm64']);
    for (const child of index.manifests) {
      const raw = await containerd!.mustCtr(['content', 'get', child.digest]);
      assert.equal(sha256Of(Buffer.from(raw)), child.digest, `child manifest ${child.digest} fetched intact`);
    }

    await containerd!.mustCtr(['content', 'rm', ...index.manifests.map((m) => m.digest)]);
    await pull(ref, '--plain-http', '--platform', 'linux/arm64');
    const arm = index.manifests.find((m) => m.platform?.architecture === 'arm64')!;
    const amd = index.manifests.find((m) => m.platform?.architecture === 'amd64')!;
    assert.equal((await containerd!.ctr(['content', 'get', arm.digest])).code, 0, 'arm64 manifest fetched');
    assert.notEqual((await containerd!.ctr(['content', 'get', amd.digest])).code, 0, 'amd64 manifest not fetched');
  });

  it('pulls docker.io images through Berth as the mirror in hosts.toml, with ?ns=docker.io', async () => {
    // Nothing of tiny may be in the content store, or containerd would not fetch it again.
    await containerd!.ctr(['images', 'rm', '--sync', `${host}/lab/tiny:v1`]);
    const out = await pull('docker.io/lab/tiny:v1', '--hosts-dir', hostsDir, '--http-dump');
    assert.equal(await imageDigest('docker.io/lab/tiny:v1'), images.digest('tiny'));
    // --http-dump logs the requests (msg="HEAD /v2/lab/tiny/manifests/v1?ns=docker.io HTTP/1.1"),
    // the blob fetches only sometimes (they run on other goroutines).
    const requests = [...out.matchAll(/msg="(GET|HEAD) (\S+) HTTP\/1\.1"/g)].map((m) => `${m[1]} ${m[2]}`);
    for (const r of requests) assert.match(r, /^\S+ \/v2\/lab\/tiny\/\S+\?ns=docker\.io$/, `every mirror request names the upstream: ${r}`);
    assert.deepEqual(requests.slice(0, 2), [
      'HEAD /v2/lab/tiny/manifests/v1?ns=docker.io',
      `GET /v2/lab/tiny/manifests/${images.digest('tiny')}?ns=docker.io`,
    ], 'manifest resolved and fetched on the mirror, naming the upstream');
    assert.ok(out.includes(`Host: ${host}`), 'requests went to Berth');
    // The blob requests (not in the dump) reached Berth with ?ns= too: Berth's request log.
    const manifest = JSON.parse((await layoutBlob(join(images.dir, 'tiny'), images.digest('tiny'))).toString('utf8')) as ManifestJson;
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
      assert.ok(berth!.logs().includes(`/v2/lab/tiny/blobs/${d}?ns=docker.io`), `Berth logged the mirror's GET of ${d}`);
    }

    await pull('docker.io/lab/multiarch:v1', '--hosts-dir', hostsDir, '--all-platforms');
    assert.equal(await imageDigest('docker.io/lab/multiarch:v1'), images.digest('multiarch'));
  });

  it('pushes a pulled image (cross-repository mount) and an imported one (real upload)', async () => {
    const src = `${host}/lab/multilayer:v1`;
    if (!(await imageDigest(src))) await pull(src, '--plain-http');
    const pushed = `${host}/ctr/pushed:v1`;
    await containerd!.mustCtr(['images', 'tag', '--force', src, pushed]);
    await containerd!.mustCtr(['images', 'push', '--plain-http', pushed]);
    assert.equal(sha256Of(await inspectRaw(`docker://${pushed}`)), images.digest('multilayer'));

    // An image from a docker-archive has no source repository: every blob is uploaded.
    await containerd!.mustCtr(['images', 'import', '--snapshotter', 'native', images.dockerArchive('tiny')]);
    const imported = `${host}/ctr/imported:v1`;
    await containerd!.mustCtr(['images', 'tag', '--force', 'docker.io/lab/tiny:v1', imported]);
    await containerd!.mustCtr(['images', 'push', '--hosts-dir', hostsDir, imported]);
    const raw = await inspectRaw(`docker://${imported}`);
    assert.equal(sha256Of(raw), await imageDigest(imported), 'Berth serves the manifest containerd pushed');
    assert.deepEqual(await inspectConfig(`docker://${imported}`), await inspectConfig(`docker-archive:${images.dockerArchive('tiny')}`));

    // And containerd pulls back what it pushed, from a clean content store.
    await containerd!.ctr(['images', 'rm', '--sync', imported, 'docker.io/lab/tiny:v1']);
    await pull(imported, '--hosts-dir', hostsDir);
    assert.equal(await imageDigest(imported), sha256Of(raw));
  });
});
