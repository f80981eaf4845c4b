// Berth's container image (scripts/build-image.sh) under the real runtimes: podman runs it
// non-root on a read-only root filesystem with its volume and REGISTRY_* variables, skopeo
// pushes and pulls through it, the image pushes itself into it and comes back byte-exact,
// docker pulls it from there and runs it, SIGTERM lets an in-flight download finish, a
// directory Distribution (registry:2's registry) wrote mounts as its volume, and compose runs it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, PROJECT_ROOT, removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { startDockerd, type DockerdProcess } from '../e2e/support/dockerd-process.js';
import { startDistribution } from '../e2e/support/distribution-process.js';
import { type LabImages } from '../e2e/support/images.js';
import { mustRun } from '../e2e/support/run.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { copy, inspectRaw, sha256Of } from '../e2e/support/skopeo.js';
import { berthImage, type BerthImage } from './support/image.js';
import { podmanIn, type Podman } from './support/podman.js';

/** The image's health check, in exec form. */
const HEALTH_CMD = ['/usr/local/bin/node', '/app/healthcheck.mjs'];

const gate = requireClients('buildah', 'podman', 'skopeo', 'dockerd', 'docker-registry', 'podman-compose');

it('has the tools it drives installed (buildah, podman, skopeo, dockerd, docker-registry, podman-compose)', { skip: gate.skip }, () => gate.assertPresent());

/** Polls until `url` answers `status` (200 by default), or fails after `timeoutMs` with `why()`. */
async function waitFor(url: string, why: () => Promise<string>, timeoutMs = 120_000, status = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await fetch(url, { signal: AbortSignal.timeout(3000) }).then(async (r) => { await r.arrayBuffer(); return r.status; }, () => 0);
    if (got === status) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms\n${await why()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Pushes `data` as one blob (monolithic POST ?digest=). */
async function pushBlob(base: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256Of(data);
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST', body: data, headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

/** The manifest digest of the one image in an OCI archive's index. */
async function archiveManifestDigest(archive: string): Promise<string> {
  const index = JSON.parse(await mustRun('tar', ['-xOf', archive, 'index.json'])) as { manifests: { digest: string }[] };
  assert.equal(index.manifests.length, 1);
  return index.manifests[0]!.digest;
}

describe('the container image', { skip: gate.skip }, () => {
  let work: string;
  let image: BerthImage;
  let podman: Podman;
  let images: LabImages;
  let dockerd: DockerdProcess | undefined;
  const containers: string[] = [];

  async function runBerth(name: string, port: number, extra: string[] = []): Promise<string> {
    containers.push(name);
    await podman.must(['run', '-d', '--name', name, ...podman.runArgs, '--read-only', '--network', 'host',
      '-e', `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`, ...extra, image.name]);
    await waitFor(`http://127.0.0.1:${port}/v2/`, async () => (await podman.run(['logs', name])).stderr);
    return `127.0.0.1:${port}`;
  }

  before(async () => {
    gate.assertPresent();
    work = await tempDir('image');
    [image, images] = await Promise.all([berthImage(), sharedLabImages()]);
    podman = await podmanIn(join(work, 'podman'));
    await podman.must(['load', '-q', '-i', image.archive]);
  });
  after(async () => {
    for (const name of containers) await podman?.run(['rm', '-f', '-t', '0', name]);
    await dockerd?.stop();
    await removeDir(work);
  });

  it('is under 150 MB uncompressed', (t) => {
    t.diagnostic(`image root filesystem: ${image.size} bytes (${(image.size / 1e6).toFixed(1)} MB)`);
    assert.ok(image.size < 150_000_000, `image is ${image.size} bytes`);
  });

  it('runs as berth on a read-only root filesystem; skopeo pushes and pulls; REGISTRY_* applies; the volume keeps the data', async () => {
    await podman.must(['volume', 'create', 'berth-data']);
    let host = await runBerth('berth-a', await freePort(), ['-v', 'berth-data:/var/lib/berth', '-e', 'REGISTRY_STORAGE_DELETE_ENABLED=true',
      '--health-cmd', JSON.stringify(HEALTH_CMD), '--health-interval', '0']);
    const top = await podman.must(['top', 'berth-a', 'user', 'args']);
    assert.match(top, /^berth\s+.*berth\.js serve/m);
    assert.doesNotMatch(top, /^root/m);
    // The health check the README documents answers healthy (exec form: the image has no shell).
    await podman.must(['healthcheck', 'run', 'berth-a']);
    const writes = await podman.run(['exec', 'berth-a', '/usr/local/bin/node', '-e', 'require("fs").writeFileSync("/app/x", "x")']);
    assert.notEqual(writes.code, 0);
    assert.match(writes.stderr, /EROFS|read-only/);

    await copy(images.oci('multilayer'), `docker://${host}/lab/multilayer:v1`);
    const pulled = join(work, 'pulled');
    await copy(`docker://${host}/lab/multilayer:v1`, `oci:${pulled}:v1`);
    assert.equal(sha256Of(await inspectRaw(`docker://${host}/lab/multilayer:v1`)), images.digest('multilayer'));
    const index = JSON.parse(await readFile(join(pulled, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]!.digest, images.digest('multilayer'));

    // Deletes are off by default (405); REGISTRY_STORAGE_DELETE_ENABLED turned them on.
    await copy(images.oci('tiny'), `docker://${host}/lab/tiny:v1`);
    const del = await fetch(`http://${host}/v2/lab/tiny/manifests/${images.digest('tiny')}`, { method: 'DELETE' });
    assert.equal(del.status, 202);

    // A new container on the same volume serves what the first one stored.
    await podman.must(['rm', '-f', '-t', '30', 'berth-a']);
    host = await runBerth('berth-b', await freePort(), ['-v', 'berth-data:/var/lib/berth']);
    assert.equal(sha256Of(await inspectRaw(`docker://${host}/lab/multilayer:v1`)), images.digest('multilayer'));
    await podman.must(['rm', '-f', '-t', '30', 'berth-b']);
  });

  it('pushes itself into Berth and is pulled back byte-exact; docker pulls it from there and runs it', async () => {
    const host = await runBerth('berth-self', await freePort());
    await copy(`oci-archive:${image.archive}`, `docker://${host}/berth/berth:v1`);
    const digest = await archiveManifestDigest(image.archive);
    assert.equal(sha256Of(await inspectRaw(`docker://${host}/berth/berth:v1`)), digest);
    const back = join(work, 'self.tar');
    await copy(`docker://${host}/berth/berth:v1`, `oci-archive:${back}:berth:v1`);
    assert.equal(await archiveManifestDigest(back), digest);

    dockerd = await startDockerd({ dir: join(work, 'dockerd') });
    await dockerd.mustDocker(['pull', '-q', `${host}/berth/berth:v1`], 300_000);
    const port = await freePort();
    await dockerd.mustDocker(['run', '-d', '--name', 'berth-docker', '--network', 'host', '--read-only', '-e', `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`,
      `${host}/berth/berth:v1`]);
    await waitFor(`http://127.0.0.1:${port}/v2/`, async () => (await dockerd!.docker(['logs', 'berth-docker'])).stderr);
    assert.equal((await dockerd.mustDocker(['inspect', '-f', '{{.Config.User}}', 'berth-docker'])).trim(), '65532:65532');
    await copy(images.oci('tiny'), `docker://127.0.0.1:${port}/lab/tiny:v1`);
    assert.equal(sha256Of(await inspectRaw(`docker://127.0.0.1:${port}/lab/tiny:v1`)), images.digest('tiny'));
    // docker run's --health-cmd always goes through /bin/sh, which the image lacks: the same
    // command runs with docker exec (compose files give it in exec form).
    await dockerd.mustDocker(['exec', 'berth-docker', ...HEALTH_CMD]);
    await dockerd.mustDocker(['rm', '-f', 'berth-docker']);
  });

  it('drains on SIGTERM: a download in flight finishes, new connections are refused, the exit is clean', async () => {
    const port = await freePort();
    const host = await runBerth('berth-drain', port);
    // Larger than loopback's socket buffers, so the response is still being written at SIGTERM.
    const data = randomBytes(64 * 1024 * 1024);
    const digest = await pushBlob(`http://${host}`, 'drain/blob', data);
    const hash = createHash('sha256');
    let length = 0;
    const done = new Promise<void>((resolve, reject) => {
      get(`http://${host}/v2/drain/blob/blobs/${digest}`, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', (first: Buffer) => {
          hash.update(first);
          length += first.length;
          res.pause();
          void (async () => {
            await podman.must(['kill', '--signal', 'TERM', 'berth-drain']);
            // Refused once the listener closed; the paused response is still open.
            for (;;) {
              const up = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false);
              if (!up) break;
              await new Promise((r) => setTimeout(r, 100));
            }
            res.on('data', (c: Buffer) => { hash.update(c); length += c.length; });
            res.on('end', resolve);
            res.resume();
          })().catch(reject);
        });
        res.on('error', reject);
      }).on('error', reject);
    });
    await done;
    assert.equal(length, data.length);
    assert.equal(`sha256:${hash.digest('hex')}`, digest);
    assert.equal((await podman.must(['wait', 'berth-drain'])).trim(), '0');
  });

  it('serves a directory written by Distribution (registry:2) mounted as its volume', async () => {
    const root = join(work, 'registry2');
    await mkdir(root, { recursive: true });
    const distribution = await startDistribution({ root, configDir: work });
    try {
      await copy(images.oci('multilayer'), `docker://${distribution.host}/lab/multilayer:v1`);
    } finally {
      await distribution.stop();
    }
    // :U gives the volume to the image's user (registry:2 writes as root).
    const host = await runBerth('berth-r2', await freePort(), ['-v', `${root}:/var/lib/berth:U`]);
    assert.equal(sha256Of(await inspectRaw(`docker://${host}/lab/multilayer:v1`)), images.digest('multilayer'));
    const catalog = await (await fetch(`http://${host}/v2/_catalog`)).json() as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['lab/multilayer']);
    await copy(images.oci('tiny'), `docker://${host}/lab/tiny:v1`);
    assert.equal(sha256Of(await inspectRaw(`docker://${host}/lab/tiny:v1`)), images.digest('tiny'));
    await podman.must(['rm', '-f', '-t', '30', 'berth-r2']);
  });

  it('runs from deploy/compose.yaml with podman-compose', async () => {
    const port = await freePort();
    const env = { BERTH_IMAGE: image.name, BERTH_PUBLISH: `127.0.0.1:${port}` };
    const compose = (args: string[]) => mustRun('podman-compose', [
      '--podman-args', podman.globalArgs.join(' '), '--podman-run-args', podman.runArgs.join(' '),
      '-p', 'berthcompose', '-f', join(PROJECT_ROOT, 'deploy', 'compose.yaml'), ...args,
    ], { env: { ...env, ...podman.env }, timeoutMs: 300_000 });
    await compose(['up', '-d']);
    try {
      await waitFor(`http://127.0.0.1:${port}/v2/`, async () => (await podman.run(['logs', 'berthcompose_berth_1'])).stderr);
      await copy(images.oci('tiny'), `docker://127.0.0.1:${port}/lab/tiny:v1`);
      assert.equal(sha256Of(await inspectRaw(`docker://127.0.0.1:${port}/lab/tiny:v1`)), images.digest('tiny'));
      const del = await fetch(`http://127.0.0.1:${port}/v2/lab/tiny/manifests/${images.digest('tiny')}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      assert.equal((await podman.must(['inspect', '-f', '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}', 'berthcompose_berth_1'])).trim(), '65532:65532 true');
    } finally {
      await compose(['down']);
      await podman.run(['volume', 'rm', '-f', 'berthcompose_berth-data']);
    }
  });
});

