// The client-mirror contract: a real client (dockerd, containerd's ctr, podman), configured the
// way `berth configure <client> --mirror-of docker.io` writes, pulls docker.io images through
// Berth, which pulls through from an authenticated docker-registry standing in for Docker Hub.
// The first pull fetches each blob from the upstream once, a repeated pull never reaches it, and
// with the upstream stopped a cached image still pulls while an uncached one fails with Berth's
// error naming the upstream. One adapter per client says how it is configured and how it pulls.
// The clients are required under CI=true (a missing one fails the run) and skipped elsewhere.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import type { LabImages } from '../e2e/support/images.js';
import type { CommandResult } from '../e2e/support/run.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { assertFallbackTrapped, startLoopbackTrap, type LoopbackTrap } from '../proxy/support/loopback-trap.js';
import {
  assertFetchedOnce, markRepeatedPull, startCountingUpstream, startMirrorBerth, UPSTREAM_NAME, type CountingUpstream, type MirrorBerth,
} from '../proxy/support/clients-mirror.js';

/** What a client's tests see: the lab, started by the suite. */
export interface MirrorLab {
  work: string;
  images: LabImages;
  upstream: CountingUpstream;
  berth: MirrorBerth;
  /** The loopback trap for clients that fall back to docker.io themselves (adapter.trap). */
  trap: LoopbackTrap | undefined;
}

export interface MirrorClient {
  /** How the client names itself in titles and logs (docker, ctr, podman). */
  name: string;
  /** The commands it needs on PATH. */
  requires: string[];
  title: string;
  /** Whether it falls back to docker.io itself when the mirror fails (then a loopback trap catches that). */
  trap: boolean;
  /** The client's reference for docker.io/library/<image>:v1. */
  ref(image: string): string;
  /** What digestOf answers for an image pulled as `ref(image)` with manifest `digest`. */
  expectedDigest(image: string, digest: string): string;
  /** The repository under which the client asks Berth for library/tiny (prefix or not). */
  localRepository: string;
  /** The Berth request the client's mirror sends for library/uncached:v1, and its Accept header. */
  uncachedRequest: { path: string; accept: string };
  /** Configures the client as `berth configure` writes it (asserting what it wrote) and starts it. */
  setup(lab: MirrorLab): Promise<void>;
  stop(): Promise<void>;
  /** Removes `ref` (and its content) from the client, then pulls it. */
  pull(ref: string): Promise<CommandResult>;
  digestOf(ref: string): Promise<string | undefined>;
  /** Checks after the first pull, beyond the upstream count. */
  afterFirstPull?(lab: MirrorLab): void;
  /** Tests of this client only, run after the repeated pull and before the upstream stops. */
  moreTests?(lab: () => MirrorLab): void;
}

export function clientMirrorSuite(client: MirrorClient): void {
  const gate = requireClients(...client.requires);

  it(`has the clients it drives installed (${client.requires.join(', ')})`, { skip: gate.skip }, () => gate.assertPresent());

  describe(client.title, { skip: gate.skip, timeout: 600_000 }, () => {
    let lab: MirrorLab | undefined;
    let work: string | undefined;
    let upstream: CountingUpstream | undefined;
    let berth: MirrorBerth | undefined;
    let trap: LoopbackTrap | undefined;
    const tiny = client.ref('tiny');

    before(async () => {
      gate.assertPresent();
      work = await tempDir(`proxy-${client.name}`);
      const images = await sharedLabImages();
      upstream = await startCountingUpstream(work);
      await upstream.seed(images.oci('tiny'), 'library/tiny:v1');
      await upstream.seed(images.oci('tiny'), 'library/uncached:v1');
      berth = await startMirrorBerth(work, upstream.host);
      if (client.trap) trap = await startLoopbackTrap();
      lab = { work, images, upstream, berth, trap };
      await client.setup(lab);
    });
    after(async () => {
      await client.stop();
      await berth?.stop();
      await upstream?.stop();
      await trap?.stop();
      await removeDir(work);
    });

    it(`pulls ${tiny} through the mirror, from the upstream once`, async () => {
      const r = await client.pull(tiny);
      assert.equal(r.code, 0, `${client.name} pull failed:\n${r.stderr.slice(-3000)}\n${berth!.logs()}`);
      assert.equal(await client.digestOf(tiny), client.expectedDigest('tiny', lab!.images.digest('tiny')));
      client.afterFirstPull?.(lab!);
      assertFetchedOnce(upstream!);
    });

    it(`pulls it again, after removing it from ${client.name}, without touching the upstream`, async () => {
      const repeated = markRepeatedPull(upstream!, berth!);
      const r = await client.pull(tiny);
      assert.equal(r.code, 0, r.stderr.slice(-3000));
      assert.equal(await client.digestOf(tiny), client.expectedDigest('tiny', lab!.images.digest('tiny')));
      repeated(client.localRepository);
    });

    client.moreTests?.(() => lab!);

    it('with the upstream stopped, still pulls the cached image and fails an uncached one naming the upstream', async () => {
      await upstream!.stop();
      const cached = await client.pull(tiny);
      assert.equal(cached.code, 0, `cached image from a stopped upstream:\n${cached.stderr.slice(-3000)}`);
      assert.equal(await client.digestOf(tiny), client.expectedDigest('tiny', lab!.images.digest('tiny')));

      const started = Date.now();
      const uncached = await client.pull(client.ref('uncached'));
      const ms = Date.now() - started;
      assert.notEqual(uncached.code, 0, 'an uncached image cannot come from a stopped upstream');
      console.log(`# ${client.name}: uncached pull with the upstream stopped failed after ${ms} ms: ${uncached.stderr.trim().split('\n').pop()}`);
      if (trap) {
        console.log(`# ${client.name}'s fallback reached the loopback trap as: ${trap.seen.join('; ') || '(nothing)'}`);
        assertFallbackTrapped(trap, uncached.stderr);
      }
      // What Berth answered the mirror request with (the client may report only its fallback's failure).
      const res = await fetch(`${berth!.url}${client.uncachedRequest.path}`, { headers: { Accept: client.uncachedRequest.accept } });
      const body = await res.text();
      console.log(`# berth answered ${res.status}: ${body}`);
      assert.ok(res.status >= 400, `status ${res.status}`);
      assert.match(body, new RegExp(`${UPSTREAM_NAME}|${upstream!.host.replace(/\./g, '\\.')}`), `the error names the upstream: ${body}`);
    });
  });
}
