// Berth behind Debian's nginx terminating TLS (a test CA made with openssl) and proxying plain
// HTTP, as operators deploy it. nginx passes Berth's Location headers through untouched
// (`proxy_redirect off`), so every Location must already be right for the client's side of the
// proxy, whichever way the deployment tells Berth about it:
//   host       Host $http_host + X-Forwarded-Proto (Distribution's documented nginx recipe)
//   xfh        upstream Host, X-Forwarded-Host + X-Forwarded-Proto
//   forwarded  upstream Host, RFC 7239 Forwarded: proto=...;host=...
//   relative   nothing forwarded; Berth runs with http.relativeurls
//   httphost   nothing forwarded; Berth runs with http.host = the proxy's URL
// The clients (skopeo, docker, ctr) push and pull through it, each trusting the test CA: skopeo
// with --cert-dir, dockerd with certs.d, ctr with `ca =` in hosts.toml.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from '../support/berth-process.js';
import { startContainerd, type ContainerdProcess } from '../support/containerd-process.js';
import { startDockerd, type DockerdProcess } from '../support/dockerd-process.js';
import { freePort, removeDir, requireClients, tempDir } from '../support/env.js';
import { layoutDescriptor, type LabImages } from '../support/images.js';
import { startNginx, type NginxProcess } from '../support/nginx-process.js';
import { sharedLabImages } from '../support/shared-images.js';
import { skopeo, sha256Of } from '../support/skopeo.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { blob, imageManifest, OCI_MANIFEST } from '../../support/oci-fixtures.js';

const gate = requireClients('nginx', 'openssl', 'skopeo', 'dockerd', 'docker', 'containerd', 'ctr');

it('has the clients it drives installed (nginx, openssl, skopeo, dockerd, docker, containerd, ctr)', { skip: gate.skip }, () => gate.assertPresent());

type Mode = 'host' | 'xfh' | 'forwarded' | 'relative' | 'httphost';
const MODES: Mode[] = ['host', 'xfh', 'forwarded', 'relative', 'httphost'];

interface Reply {
  status: number;
  location: string | undefined;
  body: Buffer;
}

describe('berth serve behind nginx (TLS, reverse proxy)', { skip: gate.skip }, () => {
  let images: LabImages;
  let work: string | undefined;
  let ca: TestCa;
  let caPem: Buffer;
  let certDir: string;
  const berths: BerthProcess[] = [];
  let nginx: NginxProcess | undefined;
  let dockerd: DockerdProcess | undefined;
  let containerd: ContainerdProcess | undefined;
  const port = {} as Record<Mode, number>;
  /** 127.0.0.1:PORT of the nginx server for `mode`. */
  const proxy = (mode: Mode) => `127.0.0.1:${port[mode]}`;

  function https(url: string, method: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, ca: caPem }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }


  before(async () => {
    gate.assertPresent();
    work = await tempDir('nginx');
    images = await sharedLabImages();
    ca = await makeTestCa(work);
    caPem = await readFile(ca.caCert);
    certDir = join(work, 'certs');
    await mkdir(certDir, { recursive: true });
    await copyFile(ca.caCert, join(certDir, 'ca.crt'));

    const plain = await startBerth({ root: join(work, 'storage-plain') });
    const relative = await startBerth({ root: join(work, 'storage-relative'), env: { REGISTRY_HTTP_RELATIVEURLS: 'true' } });
    berths.push(plain, relative);
    const proto: [string, string] = ['X-Forwarded-Proto', '$scheme'];
    // nginx's ports are picked before it binds them, and the http.host Berth must know its
    // port first: on a lost race for a port, pick again.
    for (let attempt = 1; ; attempt++) {
      for (const mode of MODES) port[mode] = await freePort();
      const httphost = await startBerth({ root: join(work, 'storage-httphost'), env: { REGISTRY_HTTP_HOST: `https://${proxy('httphost')}` } });
      try {
        nginx = await startNginx({
          dir: join(work, 'nginx'), cert: ca.serverCert, key: ca.serverKey, ca: ca.caCert,
          servers: [
            { port: port.host, upstream: plain.host, headers: [['Host', '$http_host'], ['X-Real-IP', '$remote_addr'], ['X-Forwarded-For', '$proxy_add_x_forwarded_for'], proto] },
            { port: port.xfh, upstream: plain.host, headers: [['X-Forwarded-Host', '$http_host'], proto] },
            { port: port.forwarded, upstream: plain.host, headers: [['Forwarded', '"proto=$scheme;host=\\"$http_host\\""']] },
            { port: port.relative, upstream: relative.host, headers: [] },
            { port: port.httphost, upstream: httphost.host, headers: [] },
          ],
        });
        berths.push(httphost);
        break;
      } catch (err) {
        await httphost.stop();
        if (attempt >= 3 || !/Address already in use/i.test(String(err))) throw err;
      }
    }
  });
  after(async () => {
    await containerd?.stop();
    await dockerd?.stop();
    await nginx?.stop();
    for (const b of berths) await b.stop();
    await removeDir(work);
  });

  for (const mode of MODES) {
    it(`sends Locations right for the client's side of the proxy (${mode})`, async () => {
      const base = `https://${proxy(mode)}`;
      const expected = mode === 'relative' ? '' : base;
      const repo = `loc/${mode}`;
      const at = (path: string) => new RegExp(`^${(expected + path).replace(/[.?*+^$()[\]{}|\\]/g, '\\$&')}$`);
      const follow = (location: string | undefined) => new URL(location ?? '', base).toString();

      // Chunked upload: POST, PATCH, GET status, PUT with the last chunk.
      const data = blob(Buffer.alloc(70_000, 7));
      const post = await https(`${base}/v2/${repo}/blobs/uploads/`, 'POST');
      assert.equal(post.status, 202);
      const session = new RegExp(`^${expected.replace(/[.]/g, '\\.')}/v2/${repo}/blobs/uploads/[^/?#]+$`);
      assert.match(post.location ?? '', session, 'POST uploads/ Location');
      const patch = await https(follow(post.location), 'PATCH', { 'Content-Type': 'application/octet-stream' }, data.data.subarray(0, 40_000));
      assert.equal(patch.status, 202);
      assert.match(patch.location ?? '', session, 'PATCH Location');
      const gap = await https(follow(patch.location), 'PATCH', { 'Content-Type': 'application/octet-stream', 'Content-Range': '50000-50009' }, Buffer.alloc(10));
      assert.equal(gap.status, 416, 'a chunk out of order');
      assert.match(gap.location ?? '', session, '416 Location (where the upload stands)');
      const status = await https(follow(patch.location), 'GET');
      assert.equal(status.status, 204);
      assert.match(status.location ?? '', session, 'upload status Location');
      const sep = follow(patch.location).includes('?') ? '&' : '?';
      const put = await https(`${follow(patch.location)}${sep}digest=${data.digest}`, 'PUT', { 'Content-Type': 'application/octet-stream' }, data.data.subarray(40_000));
      assert.equal(put.status, 201, put.body.toString());
      assert.match(put.location ?? '', at(`/v2/${repo}/blobs/${data.digest}`), 'PUT Location');
      const fetched = await https(follow(put.location), 'GET');
      assert.equal(fetched.status, 200);
      assert.deepEqual(fetched.body, data.data, 'the blob Location serves the blob');

      // Monolithic POST ?digest=, and a cross-repository mount.
      const config = blob(`{"mode":"${mode}"}`);
      const mono = await https(`${base}/v2/${repo}/blobs/uploads/?digest=${config.digest}`, 'POST', { 'Content-Type': 'application/octet-stream' }, config.data);
      assert.equal(mono.status, 201);
      assert.match(mono.location ?? '', at(`/v2/${repo}/blobs/${config.digest}`), 'monolithic POST Location');
      const mount = await https(`${base}/v2/${repo}-mounted/blobs/uploads/?mount=${data.digest}&from=${repo}`, 'POST');
      assert.equal(mount.status, 201);
      assert.match(mount.location ?? '', at(`/v2/${repo}-mounted/blobs/${data.digest}`), 'mount Location');

      // Manifest PUT.
      const manifest = imageManifest(config, [data]);
      const mput = await https(`${base}/v2/${repo}/manifests/v1`, 'PUT', { 'Content-Type': OCI_MANIFEST }, manifest.body);
      assert.equal(mput.status, 201);
      assert.match(mput.location ?? '', at(`/v2/${repo}/manifests/${manifest.digest}`), 'manifest PUT Location');
      const back = await https(follow(mput.location), 'GET', { Accept: OCI_MANIFEST });
      assert.equal(back.status, 200);
      assert.deepEqual(back.body, manifest.body);
    });
  }

  it('skopeo copies in and out through every proxy mode, verifying the CA', async () => {
    for (const mode of MODES) {
      const ref = `docker://${proxy(mode)}/nginx/tiny:v1`;
      await skopeo(['copy', '--quiet', '--dest-cert-dir', certDir, images.oci('tiny'), ref]);
      const raw = await skopeo(['inspect', '--raw', '--cert-dir', certDir, ref]);
      assert.equal(sha256Of(raw), images.digest('tiny'), `${mode}: inspect --raw`);
      const out = join(work!, `skopeo-out-${mode}`);
      await skopeo(['copy', '--quiet', '--src-cert-dir', certDir, ref, `oci:${out}:v1`]);
      assert.equal((await layoutDescriptor(out, 'v1')).digest, images.digest('tiny'), `${mode}: copied back out`);
    }
    // The multi-layer image and the index, through the documented recipe.
    const host = proxy('host');
    await skopeo(['copy', '--quiet', '--dest-cert-dir', certDir, images.oci('multilayer'), `docker://${host}/nginx/multilayer:v1`]);
    await skopeo(['copy', '--quiet', '--all', '--dest-cert-dir', certDir, images.oci('multiarch'), `docker://${host}/nginx/multiarch:v1`]);
    const info = JSON.parse((await skopeo(['inspect', '--cert-dir', certDir, `docker://${host}/nginx/multilayer:v1`])).toString('utf8')) as { Digest: string; Layers: string[] };
    assert.equal(info.Digest, images.digest('multilayer'));
    assert.equal(info.Layers.length, 5);
    // Without the CA, verification fails: the proxy really is TLS with the test CA.
    const refused = await skopeo(['inspect', '--raw', `docker://${host}/nginx/tiny:v1`]).then(() => 'accepted', (err: Error) => err.message);
    assert.match(refused, /certificate signed by unknown authority|x509/);
  });

  it('docker pulls and pushes through the proxy (certs.d trust)', async () => {
    dockerd = await startDockerd({
      dir: join(work!, 'docker'),
      trustedCas: Object.fromEntries(MODES.map((m) => [proxy(m), ca.caCert])),
    });
    const docker = dockerd;
    const host = proxy('host');
    await docker.mustDocker(['pull', `${host}/nginx/multilayer:v1`]);
    const digests = JSON.parse(await docker.mustDocker(['image', 'inspect', '-f', '{{json .RepoDigests}}', `${host}/nginx/multilayer:v1`])) as string[];
    assert.ok(digests.includes(`${host}/nginx/multilayer@${images.digest('multilayer')}`), digests.join(', '));
    await docker.mustDocker(['pull', `${host}/nginx/multiarch:v1`]);
    assert.equal((await docker.mustDocker(['image', 'inspect', '-f', '{{.Architecture}}', `${host}/nginx/multiarch:v1`])).trim(), 'amd64');

    // Pushes to the other Berths upload every byte through the proxy (chunked PATCH): the 50 MB
    // image to one, the small amd64 image of the index to the others.
    const pushes = [['relative', 'nginx/multilayer'], ['httphost', 'nginx/multiarch'], ['xfh', 'nginx/multiarch']] as const;
    for (const [mode, source] of pushes) {
      const ref = `${proxy(mode)}/docker/pushed:v1`;
      await docker.mustDocker(['tag', `${host}/${source}:v1`, ref]);
      const out = await docker.mustDocker(['push', ref]);
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
      assert.ok(digest, `${mode}: docker push printed a digest:\n${out}`);
      const raw = await skopeo(['inspect', '--raw', '--cert-dir', certDir, `docker://${ref}`]);
      assert.equal(sha256Of(raw), digest, `${mode}: Berth serves what docker pushed`);
      await docker.mustDocker(['rmi', ref]);
      await docker.mustDocker(['pull', `${proxy(mode)}/docker/pushed@${digest}`]);
    }
    await docker.stop();
    dockerd = undefined;
  });

  it('ctr pulls and pushes through the proxy with hosts.toml (server https, ca =)', async () => {
    containerd = await startContainerd(join(work!, 'containerd'));
    const hostsDir = join(work!, 'hosts.d');
    for (const mode of ['host', 'relative', 'httphost'] as const) {
      await mkdir(join(hostsDir, proxy(mode)), { recursive: true });
      await writeFile(join(hostsDir, proxy(mode), 'hosts.toml'), [
        `server = "https://${proxy(mode)}"`,
        `[host."https://${proxy(mode)}"]`,
        '  capabilities = ["pull", "resolve", "push"]',
        `  ca = ${JSON.stringify(ca.caCert)}`,
        '',
      ].join('\n'));
    }
    const ctr = containerd;
    const digestOf = async (ref: string) => (await ctr.mustCtr(['images', 'ls'])).split('\n').map((l) => l.trim().split(/\s+/)).find((c) => c[0] === ref)?.[2];

    const tiny = `${proxy('host')}/nginx/tiny:v1`;
    await ctr.mustCtr(['images', 'pull', '--snapshotter', 'native', '--hosts-dir', hostsDir, tiny]);
    assert.equal(await digestOf(tiny), images.digest('tiny'));
    const multiarch = `${proxy('host')}/nginx/multiarch:v1`;
    await ctr.mustCtr(['images', 'pull', '--snapshotter', 'native', '--all-platforms', '--hosts-dir', hostsDir, multiarch]);
    assert.equal(await digestOf(multiarch), images.digest('multiarch'));

    // An imported image has no source repository, so every blob is uploaded through the proxy.
    await ctr.mustCtr(['images', 'import', '--snapshotter', 'native', images.dockerArchive('tiny')]);
    for (const mode of ['relative', 'httphost'] as const) {
      const ref = `${proxy(mode)}/ctr/imported:v1`;
      await ctr.mustCtr(['images', 'tag', '--force', 'docker.io/lab/tiny:v1', ref]);
      await ctr.mustCtr(['images', 'push', '--hosts-dir', hostsDir, ref]);
      const raw = await skopeo(['inspect', '--raw', '--cert-dir', certDir, `docker://${ref}`]);
      assert.equal(sha256Of(raw), await digestOf(ref), `${mode}: Berth serves what ctr pushed`);
    }
    // And the index pushed through the proxy to another Berth.
    const indexRef = `${proxy('httphost')}/ctr/multiarch:v1`;
    await ctr.mustCtr(['images', 'tag', '--force', multiarch, indexRef]);
    await ctr.mustCtr(['images', 'push', '--hosts-dir', hostsDir, indexRef]);
    assert.equal(sha256Of(await skopeo(['inspect', '--raw', '--cert-dir', certDir, `docker://${indexRef}`])), images.digest('multiarch'));
  });
});
