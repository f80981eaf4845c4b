// Plumbing of the proxied-name access-control tests: an upstream Berth holding `myorg/x`, a
// counting proxy in front of it, and a mirror with auth whose upstreams map `myorg/x?ns=ghcr.io`
// to the stored `ghcr/myorg/x` and (root rule) `myorg/x` to `hub/myorg/x`.
import assert from 'node:assert/strict';
import { image, pushWith, startAuthRegistry, type AuthRegistry, type Image } from '../../auth/support.js';
import type { AuthConfig } from '../../../src/config/sections/auth.js';
import { startTestRegistry, type TestRegistry } from '../../support/registry-server.js';
import { CountingProxy, sha256, upstream } from '../support.js';

export interface Upstream {
  registry: TestRegistry;
  counter: CountingProxy;
  img: Image;
  close(): Promise<void>;
}

/** An open upstream Berth with `myorg/x:v1`, behind a counting proxy. */
export async function startUpstream(): Promise<Upstream> {
  const registry = await startTestRegistry();
  const img = image();
  assert.equal(await pushWith(registry.url, 'myorg/x', 'v1', img, undefined), 201);
  const counter = await CountingProxy.start(registry.host);
  return {
    registry, counter, img,
    async close() {
      await counter.close();
      await registry.close();
    },
  };
}

/** A mirror with `mode` auth and upstreams `ghcr` (namespace ghcr.io) and `hub` (root), both through `counter`. */
export function startAuthMirror(mode: 'basic' | 'token', counter: CountingProxy, extra: Partial<AuthConfig> = {}): Promise<AuthRegistry> {
  return startAuthRegistry(mode, extra, {
    storage: 'filesystem',
    configure: (config) => {
      config.proxy = { ...config.proxy, upstreams: [upstream('ghcr', counter.url, { namespaces: ['ghcr.io'] }), upstream('hub', counter.url, { root: true })] };
    },
  });
}

export interface Answer { status: number; challenge: string | null; codes: string[]; body: string }

/** GET (or `method`) of `/v2/<path>` with an Authorization header. */
export async function call(base: string, path: string, authorization: string | undefined, method = 'GET'): Promise<Answer> {
  const res = await fetch(`${base}/v2/${path}`, {
    method,
    headers: {
      accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      ...(authorization ? { authorization } : {}),
    },
  });
  const body = await res.text();
  const codes = body ? ((JSON.parse(body) as { errors?: Array<{ code: string }> }).errors ?? []).map((e) => e.code) : [];
  return { status: res.status, challenge: res.headers.get('www-authenticate'), codes, body };
}

/** Pulls `name:v1` (with `query`) as a client does, checking every digest against `img`. */
export async function pullAs(base: string, name: string, query: string, authorization: string, img: Image): Promise<void> {
  const manifest = await fetch(`${base}/v2/${name}/manifests/v1${query}`, {
    headers: { accept: img.manifest.mediaType, authorization },
  });
  const bytes = Buffer.from(await manifest.arrayBuffer());
  assert.equal(manifest.status, 200, bytes.toString('utf8'));
  assert.equal(sha256(bytes), img.manifest.digest);
  for (const b of [img.config, img.layer]) {
    const res = await fetch(`${base}/v2/${name}/blobs/${b.digest}${query}`, { headers: { authorization } });
    const data = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200);
    assert.equal(sha256(data), b.digest);
  }
}
