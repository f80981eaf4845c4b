// Docker (a private dockerd), containerd (`ctr`, a private daemon) and podman pull through Berth with CloudFront redirects
// on: they follow the 307 to the stand-in edge with their own headers, and every blob byte
// comes from the edge.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IN_CI, requireClients, stopChild, tail, tempDir, track } from '../e2e/support/env.js';
import { buildLabImages, type LabImages } from '../e2e/support/images.js';
import { copy } from '../e2e/support/skopeo.js';
import { newBucket, radosgw, radosgwSkip, s3Client, stopRadosgw } from './support/radosgw.js';
import { s3Storage, startBerthS3, type Server } from './support/servers.js';
import { startEdge, type Edge } from './support/edge.js';

const run = promisify(execFile);
const clients = requireClients('skopeo', 'containerd', 'ctr', 'podman', 'dockerd', 'docker');
const KEY_PAIR_ID = 'KCLIENTSTEST';

describe('container clients pull through CloudFront redirects', { skip: radosgwSkip || clients.skip }, () => {
  let dir: string;
  let images: LabImages;
  let edge: Edge;
  let berth: Server | undefined;
  let blobBytes = 0;

  before(async () => {
    if (IN_CI) clients.assertPresent();
    dir = await tempDir('s3-clients');
    const gw = await radosgw();
    const bucket = await newBucket(gw);
    images = await buildLabImages(join(dir, 'images'));
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = join(dir, 'cf.pem');
    await writeFile(keyFile, keys.privateKey.export({ type: 'pkcs1', format: 'pem' }));
    edge = await startEdge({ publicKey: keys.publicKey, keyPairId: KEY_PAIR_ID, client: s3Client(gw), bucket, originPath: '/' });
    berth = await startBerthS3(dir, () => ({
      storage: { s3: s3Storage(gw, bucket, '/') },
      middleware: { storage: [{ name: 'cloudfront', options: { baseurl: edge.url, privatekey: keyFile, keypairid: KEY_PAIR_ID, duration: '10m' } }] },
    }));
    await copy(images.oci('multilayer'), `docker://${berth.host}/clients/multilayer:v1`);
    const res = await fetch(`${berth.url}/v2/clients/multilayer/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const manifest = await res.json() as { config: { size: number }; layers: Array<{ size: number }> };
    blobBytes = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  });
  after(async () => {
    await berth?.stop();
    await edge?.close();
    await stopRadosgw();
  });

  it('ctr (containerd 1.6) pulls and unpacks, every blob byte from the edge', async () => {
    const c = join(dir, 'containerd');
    await mkdir(join(c, 'root'), { recursive: true });
    const sock = join(c, 'containerd.sock');
    await writeFile(join(c, 'config.toml'), [
      'version = 2', `root = "${c}/root"`, `state = "${c}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",',
      '  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt"]',
      '[grpc]', `  address = "${sock}"`, '[ttrpc]', `  address = "${sock}.ttrpc"`, '[metrics]', '  address = ""', '',
    ].join('\n'));
    const log = tail();
    const daemon = track(spawn('containerd', ['--config', join(c, 'config.toml')], { stdio: ['ignore', 'pipe', 'pipe'] }));
    daemon.stdout?.on('data', (b: Buffer) => log.push(b));
    daemon.stderr?.on('data', (b: Buffer) => log.push(b));
    try {
      for (let i = 0; ; i++) {
        try {
          await run('ctr', ['-a', sock, 'version']);
          break;
        } catch (err) {
          if (i > 100 || daemon.exitCode !== null) throw new Error(`containerd did not start: ${String(err)}\n${log.text()}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const before = edge.bytesServed;
      const ref = `${berth!.host}/clients/multilayer:v1`;
      await run('ctr', ['-a', sock, '-n', 'berth', 'images', 'pull', '--plain-http', '--snapshotter', 'native', ref], { timeout: 240_000 });
      const { stdout } = await run('ctr', ['-a', sock, '-n', 'berth', 'images', 'ls']);
      assert.ok(stdout.includes(images.digest('multilayer')), stdout);
      assert.equal(edge.bytesServed - before, blobBytes, 'every blob byte came from the edge');
      assert.deepEqual(edge.refused, []);
    } finally {
      await stopChild(daemon);
    }
  });

  it('podman pulls, every blob byte from the edge', async () => {
    const p = join(dir, 'podman');
    await mkdir(p, { recursive: true });
    await writeFile(join(p, 'registries.conf'), 'unqualified-search-registries = []\n');
    await writeFile(join(p, 'auth.json'), '{}');
    const before = edge.bytesServed;
    const env = { ...process.env, CONTAINERS_REGISTRIES_CONF: join(p, 'registries.conf'), REGISTRY_AUTH_FILE: join(p, 'auth.json') };
    const pm = ['--root', join(p, 'root'), '--runroot', join(p, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
    await run('podman', [...pm, 'pull', '--tls-verify=false', '-q', `${berth!.host}/clients/multilayer:v1`], { env, timeout: 240_000 });
    const { stdout } = await run('podman', [...pm, 'images', '--digests', '--format', '{{.Digest}}'], { env });
    assert.ok(stdout.includes(images.digest('multilayer')), stdout);
    assert.equal(edge.bytesServed - before, blobBytes, 'every blob byte came from the edge');
    assert.deepEqual(edge.refused, []);
  });

  it('docker (a private dockerd) pulls, every blob byte from the edge', async () => {
    const d = join(dir, 'docker');
    await mkdir(join(d, 'cli'), { recursive: true });
    await writeFile(join(d, 'daemon.json'), '{}');
    const sock = join(d, 'docker.sock');
    const log = tail();
    const daemon = track(spawn('dockerd', [
      '--config-file', join(d, 'daemon.json'), '--data-root', join(d, 'root'), '--exec-root', join(d, 'exec'),
      '-H', `unix://${sock}`, '--pidfile', join(d, 'dockerd.pid'), '--iptables=false', '--ip6tables=false',
      '--bridge=none', '--storage-driver=vfs',
    ], { stdio: ['ignore', 'pipe', 'pipe'] }));
    daemon.stdout?.on('data', (b: Buffer) => log.push(b));
    daemon.stderr?.on('data', (b: Buffer) => log.push(b));
    const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(d, 'cli') };
    try {
      for (let i = 0; ; i++) {
        try {
          await run('docker', ['version'], { env });
          break;
        } catch (err) {
          if (i > 300 || daemon.exitCode !== null) throw new Error(`dockerd did not start: ${String(err)}\n${log.text()}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const before = edge.bytesServed;
      const ref = `${berth!.host}/clients/multilayer:v1`;
      await run('docker', ['pull', '-q', ref], { env, timeout: 240_000 });
      const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', ref], { env });
      assert.ok(stdout.includes(images.digest('multilayer')), stdout);
      assert.equal(edge.bytesServed - before, blobBytes, 'every blob byte came from the edge');
      assert.deepEqual(edge.refused, []);
    } finally {
      await stopChild(daemon, 'SIGTERM', 20_000);
    }
  });
});
