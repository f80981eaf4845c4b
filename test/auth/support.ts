// Shared plumbing of the auth tests: a registry with htpasswd or token auth, seeded users,
// projects and robots, and spec-level requests carrying credentials.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import bcrypt from 'bcryptjs';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import type { AuthConfig } from '../../src/config/sections/auth.js';
import type { AccessStore } from '../../src/auth/access-store.js';
import { blob, imageManifest, type Blob, type Manifest } from '../support/oci-fixtures.js';
import { tempDir, onPath } from '../e2e/support/env.js';

export interface AuthRegistry extends TestRegistry {
  store: AccessStore;
  dir: string;
}

export const PASSWORD = 'correct-horse-9';

/** A registry with `mode` auth; `alice` in the htpasswd file (written by the real `htpasswd -B` when present). */
export async function startAuthRegistry(mode: 'basic' | 'token', extra: Partial<AuthConfig> = {}, configure?: Parameters<typeof startTestRegistry>[0]): Promise<AuthRegistry> {
  const dir = await tempDir('auth');
  const htpasswd = join(dir, 'htpasswd');
  if (onPath('htpasswd')) execFileSync('htpasswd', ['-B', '-b', '-c', htpasswd, 'alice', PASSWORD], { stdio: 'pipe' });
  else writeFileSync(htpasswd, `alice:${bcrypt.hashSync(PASSWORD, 5)}\n`);
  const registry = await startTestRegistry({
    ...configure,
    configure: (config) => {
      config.auth = {
        allowfrom: [], ratelimit: { attempts: 5, window: '1m' },
        ...(mode === 'basic' ? { htpasswd: { realm: 'berth-test', path: htpasswd } } : {
          token: { realm: '', service: 'berth-test', issuer: 'berth-test-issuer', autoredirect: false, expiration: '5m', refreshexpiration: '720h' },
        }),
        ...extra,
      };
      configure?.configure?.(config);
    },
  });
  return { ...registry, store: registry.server.auth!.store, dir };
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Users bob (developer of team), gus (guest of team), olga (maintainer of other); projects team (private), other (private), pub (public). */
export async function seed(store: AccessStore): Promise<void> {
  for (const name of ['bob', 'gus', 'olga']) await store.addUser(name, PASSWORD);
  await store.addProject('team');
  await store.addProject('other');
  await store.addProject('pub', { public: true });
  await store.setMember('team', 'bob', 'developer');
  await store.setMember('team', 'gus', 'guest');
  await store.setMember('other', 'olga', 'maintainer');
  await store.setMember('pub', 'bob', 'developer');
}

export interface Image { config: Blob; layer: Blob; manifest: Manifest }

export function image(): Image {
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: Math.random() }));
  const layer = blob();
  return { config, layer, manifest: imageManifest(config, [layer]) };
}

/** Pushes an image with the given Authorization (or a token getter); returns the manifest PUT status, or the first failing status. */
export async function pushWith(base: string, name: string, tag: string, img: Image, authorization: string | undefined, extra: Record<string, string> = {}): Promise<number> {
  const headers: Record<string, string> = { ...extra, ...(authorization ? { Authorization: authorization } : {}) };
  for (const b of [img.config, img.layer]) {
    const res = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${b.digest}`, {
      method: 'POST', body: b.data, headers: { ...headers, 'Content-Type': 'application/octet-stream' },
    });
    await res.arrayBuffer();
    if (res.status !== 201) return res.status;
  }
  const res = await fetch(`${base}/v2/${name}/manifests/${tag}`, {
    method: 'PUT', body: img.manifest.body, headers: { ...headers, 'Content-Type': img.manifest.mediaType },
  });
  await res.arrayBuffer();
  return res.status;
}

export async function request(url: string, init: RequestInit & { authorization?: string } = {}): Promise<{ status: number; headers: Headers; body: string; json: () => unknown }> {
  const headers = new Headers(init.headers);
  if (init.authorization) headers.set('Authorization', init.authorization);
  const res = await fetch(url, { ...init, headers });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body) as unknown };
}

/** A token from the built-in server (GET with Basic), for `scope`. */
export async function token(reg: TestRegistry, scope: string[], authorization?: string): Promise<string> {
  const q = new URLSearchParams({ service: 'berth-test' });
  for (const s of scope) q.append('scope', s);
  const res = await request(`${reg.url}/auth/token?${q}`, authorization ? { authorization } : {});
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.body}`);
  return (res.json() as { token: string }).token;
}
