// Three replicas, proven: `berth serve` x3 behind nginx (round-robin, no stickiness) sharing
// radosgw, PostgreSQL and Redis. skopeo, docker and ctr push and pull unique images through
// nginx while one replica is kill -9ed and started again and another is drained with SIGTERM
// and started again. A push that fails while its replica dies is retried, as a client or CI
// would; only pushes that reported success count as acknowledged. At the end every
// acknowledged image pulls byte-exact, `berth index verify` is clean, every push was notified
// (an event delivered twice only when the replica that first sent it was the one killed: the
// queue is at-least-once across a crash, exactly once across a drain), and the pull-through cache
// fetched each upstream blob once although all replicas served the pulls. Bounded: a fixed number
// of images, no durations.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CountingProxy } from '../fakes/counting-upstream.js';
import { berthOk } from '../support/cli.js';
import { freshPostgresDatabase, sharedPostgres } from '../support/postgres.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { listenLoopback } from '../support/listen.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { startContainerd, type ContainerdProcess } from '../e2e/support/containerd-process.js';
import { startDistribution, type DistributionProcess } from '../e2e/support/distribution-process.js';
import { startDockerd, type DockerdProcess } from '../e2e/support/dockerd-process.js';
import { type LabImages } from '../e2e/support/images.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { copy, inspectRaw, sha256Of } from '../e2e/support/skopeo.js';
import { newBucket, radosgw, radosgwSkip, stopRadosgw } from '../s3/support/radosgw.js';
import { s3Storage } from '../s3/support/servers.js';
import { writeRandomImage } from './support/random-image.js';
import { startReplicaSet, type ReplicaSet } from './support/replicas.js';

const gate = requireClients('skopeo', 'dockerd', 'containerd', 'ctr', 'nginx', 'docker-registry');
const skip = radosgwSkip || gate.skip;
const IMAGES_PER_CLIENT = 4;

it('has the servers and clients it drives installed', { skip }, () => gate.assertPresent());

interface Ack { client: string; ref: string; repository: string; digest: string }
interface Delivery { id: string; action: string; repository: string; digest: string; mediaType: string; replica: string }

describe('three replicas behind nginx on S3, PostgreSQL and Redis', { skip }, () => {
  let work: string;
  let set: ReplicaSet;
  let redis: RedisServer;
  let hook: Server;
  let upstream: DistributionProcess;
  let counting: CountingProxy;
  let images: LabImages;
  let dockerd: DockerdProcess;
  let containerd: ContainerdProcess;
  const deliveries: Delivery[] = [];
  const acks: Ack[] = [];
  const retries: string[] = [];

  before(async () => {
    gate.assertPresent();
    work = await tempDir('replicas');
    // radosgw first: its start script runs synchronously and would stall the others' timers.
    const gw = await radosgw();
    const [postgresUrl, r, labs] = await Promise.all([sharedPostgres().then(() => freshPostgresDatabase('soak')), startRedis(), sharedLabImages()]);
    redis = r;
    images = labs;
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: { id: string; action: string; target: { repository: string; digest: string; mediaType: string } }[] };
        for (const e of envelope.events) {
          deliveries.push({ id: e.id, action: e.action, repository: e.target.repository, digest: e.target.digest, mediaType: e.target.mediaType, replica: String(req.headers['x-replica']) });
        }
        res.writeHead(200).end();
      });
    });
    const { url: hookUrl } = await listenLoopback(hook);
    await mkdir(join(work, 'upstream'), { recursive: true });
    upstream = await startDistribution({ root: join(work, 'upstream'), configDir: work });
    await copy(images.oci('multilayer'), `docker://${upstream.host}/lab/multilayer:v1`);
    counting = await CountingProxy.start(upstream.host);
    const bucket = await newBucket(gw, 'soak');
    set = await startReplicaSet(work, {
      s3: s3Storage(gw, bucket), postgresUrl, redisAddr: redis.addr, webhook: `${hookUrl}/events`,
      upstream: { name: 'hub', remoteurl: counting.url },
    });
    [dockerd, containerd] = await Promise.all([startDockerd({ dir: join(work, 'dockerd') }), startContainerd(join(work, 'containerd'))]);
  });
  after(async () => {
    await set?.stop();
    await Promise.all([dockerd?.stop(), containerd?.stop(), upstream?.stop(), redis?.close(), counting?.close()]);
    hook?.close();
    await stopRadosgw();
    await removeDir(work);
  });

  it('the pull-through cache fetches each upstream blob once while every replica serves the pulls', async () => {
    const ref = `${set.host}/hub/lab/multilayer:v1`;
    await Promise.all([
      copy(`docker://${ref}`, `oci:${join(work, 'pt-1')}:v1`),
      copy(`docker://${ref}`, `oci:${join(work, 'pt-2')}:v1`),
      dockerd.mustDocker(['pull', '-q', ref], 300_000),
      containerd.mustCtr(['images', 'pull', '--plain-http', ref], 300_000),
    ]);
    assert.equal(sha256Of(await inspectRaw(`docker://${ref}`)), images.digest('multilayer'));
    const manifest = JSON.parse((await inspectRaw(`docker://${ref}`)).toString('utf8')) as { layers: { digest: string }[]; config: { digest: string } };
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
      assert.equal(counting.count('GET', new RegExp(`/blobs/${d}$`)), 1, `${d} fetched upstream ${counting.count('GET', new RegExp(`/blobs/${d}$`))} times:\n${counting.requests().join('\n')}`);
    }
  });

  it('keeps every acknowledged push through a kill -9 and a SIGTERM drain', async () => {
    const ackCount = () => acks.length;
    async function untilAcks(n: number): Promise<void> {
      while (ackCount() < n) await new Promise((r) => setTimeout(r, 200));
    }
    async function withRetries(client: string, what: string, push: () => Promise<void>): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        try {
          await push();
          return;
        } catch (err) {
          retries.push(`${client} ${what} attempt ${attempt}: ${String(err).split('\n').slice(0, 3).join(' | ')}`);
          if (attempt >= 6) throw err;
        }
      }
    }
    const total = 3 * IMAGES_PER_CLIENT;

    const skopeoLoop = async () => {
      for (let i = 0; i < IMAGES_PER_CLIENT; i++) {
        const img = await writeRandomImage(join(work, `img-skopeo-${i}`), 2, 3 * 1024 * 1024);
        const repository = `soak/skopeo-${i}`;
        await withRetries('skopeo', repository, () => copy(img.layout, `docker://${set.host}/${repository}:v1`));
        acks.push({ client: 'skopeo', ref: `${set.host}/${repository}:v1`, repository, digest: img.digest });
        await copy(`docker://${set.host}/${repository}:v1`, `oci:${join(work, `back-skopeo-${i}`)}:v1`);
      }
    };
    const dockerLoop = async () => {
      for (let i = 0; i < IMAGES_PER_CLIENT; i++) {
        const img = await writeRandomImage(join(work, `img-docker-${i}`), 2, 3 * 1024 * 1024);
        const repository = `soak/docker-${i}`;
        const ref = `${set.host}/${repository}:v1`;
        const archive = join(work, `docker-${i}.tar`);
        await copy(img.layout, `docker-archive:${archive}:${ref}`);
        await dockerd.mustDocker(['load', '-q', '-i', archive]);
        let digest = '';
        await withRetries('docker', repository, async () => {
          const out = await dockerd.mustDocker(['push', ref], 300_000);
          const line = out.split('\n').find((l) => l.includes('digest: sha256:'));
          digest = line?.split(' ').find((w) => w.startsWith('sha256:')) ?? '';
          assert.ok(digest, `no digest in docker push output:\n${out}`);
        });
        acks.push({ client: 'docker', ref, repository, digest });
        await dockerd.mustDocker(['rmi', ref]);
        await dockerd.mustDocker(['pull', '-q', ref], 300_000);
      }
    };
    const ctrLoop = async () => {
      for (let i = 0; i < IMAGES_PER_CLIENT; i++) {
        const img = await writeRandomImage(join(work, `img-ctr-${i}`), 2, 3 * 1024 * 1024);
        const repository = `soak/ctr-${i}`;
        const ref = `${set.host}/${repository}:v1`;
        const archive = join(work, `ctr-${i}.tar`);
        await copy(img.layout, `docker-archive:${archive}:${ref}`);
        await containerd.mustCtr(['images', 'import', archive]);
        const listed = await containerd.mustCtr(['images', 'ls', `name==${ref}`]);
        const digest = listed.split('\n')[1]?.split(/\s+/).find((w) => w.startsWith('sha256:')) ?? '';
        assert.ok(digest, `no digest for ${ref} in:\n${listed}`);
        await withRetries('ctr', repository, async () => { await containerd.mustCtr(['images', 'push', '--plain-http', ref], 300_000); });
        acks.push({ client: 'ctr', ref, repository, digest });
        await containerd.mustCtr(['images', 'rm', ref]);
        await containerd.mustCtr(['images', 'pull', '--plain-http', ref], 300_000);
      }
    };
    const [r0, r1] = set.replicas;
    const chaos = async () => {
      await untilAcks(2);
      await r0!.kill();
      await untilAcks(4);
      await r0!.start();
      const code = await r1!.drain();
      assert.equal(code, 0, 'a drained replica exits 0');
      await untilAcks(6);
      await r1!.start();
    };
    await Promise.all([skopeoLoop(), dockerLoop(), ctrLoop(), chaos()]);
    assert.equal(acks.length, total);

    // Every acknowledged image, through nginx: the manifest by its digest, every blob verified by skopeo.
    for (const [i, a] of acks.entries()) {
      assert.equal(sha256Of(await inspectRaw(`docker://${a.ref}`)), a.digest, `${a.client} ${a.ref}`);
      await copy(`docker://${a.ref}`, `oci:${join(work, `verify-${i}`)}:v1`);
    }
    const verify = await berthOk(['index', 'verify', set.replicas[2]!.config], { AWS_CA_BUNDLE: '' });
    assert.match(verify.stdout, /listing index matches storage/);
  });

  it('notifies every acknowledged push; a second delivery only of what the killed replica had sent', async () => {
    const pushed = (a: Ack) => deliveries.some((d) => d.action === 'push' && d.repository === a.repository && d.digest === a.digest);
    while (!acks.every(pushed)) await new Promise((r) => setTimeout(r, 200));
    const byId = new Map<string, Delivery[]>();
    for (const d of deliveries) byId.set(d.id, [...(byId.get(d.id) ?? []), d]);
    const twice = [...byId.values()].filter((ds) => ds.length > 1);
    for (const ds of twice) {
      // Delivery is at least once across a crash: r0 (kill -9) can die after the endpoint answered
      // and before the delivery is recorded. r1's SIGTERM drain lets its POST in flight finish and
      // records it, and r2 runs throughout: neither sends an event twice.
      assert.equal(ds[0]!.replica, 'r0', `event ${ds[0]!.id} delivered ${ds.length} times by ${ds.map((d) => d.replica).join(', ')}`);
    }
    process.stderr.write(`soak: ${acks.length} acknowledged pushes, ${retries.length} retried attempts, ${deliveries.length} deliveries, ${twice.length} delivered twice\n${retries.join('\n')}\n`);
  });
});
