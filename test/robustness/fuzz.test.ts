// Fuzz-style robustness, replayable: a seeded PRNG generates thousands of manifests (valid,
// mutated, truncated, wrongly typed, deeply nested, huge, random bytes) and random request
// sequences over uploads, blobs, manifests and tags in a few repositories. Invariants: the
// server never answers 5xx, every error carries OCI error JSON, and at the end every
// acknowledged blob, manifest and tag (kept in a model) is pulled back exactly, and nothing
// deleted comes back.
//   BERTH_FUZZ_SEED=<n> replays a run (the seed is printed, and named in every failure);
//   BERTH_FUZZ_MANIFESTS / BERTH_FUZZ_REQUESTS set the counts (defaults 2000 / 1500: well under a minute on an idle 2-core machine).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { errorBody, locationPath } from '../support/api-table.js';
import { Prng, countFrom, seedFrom } from './support/prng.js';

const SEED = seedFrom('BERTH_FUZZ_SEED');
const MANIFESTS = countFrom('BERTH_FUZZ_MANIFESTS', 2000);
const REQUESTS = countFrom('BERTH_FUZZ_REQUESTS', 1500);
const REPOS = ['fuzz/a', 'fuzz/b', 'fuzz/c/d'];

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const CONTENT_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST, 'application/json', 'application/octet-stream', 'text/plain', 'application/vnd.example+json', ''];

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sha512 = (b: Buffer | string): string => `sha512:${createHash('sha512').update(b).digest('hex')}`;

/** What the registry acknowledged (2xx) and not deleted since, per repository. */
class Model {
  blobs = new Map<string, Map<string, Buffer>>();
  manifests = new Map<string, Map<string, Buffer>>();
  tags = new Map<string, Map<string, string>>();
  /** repo + digest / repo + tag that were deleted and not pushed again. */
  goneBlobs = new Set<string>();
  goneManifests = new Set<string>();
  goneTags = new Set<string>();
  /** Digests of accepted image manifests (valid children of an index) and their media types. */
  images = new Map<string, string>();

  constructor() {
    for (const r of REPOS) {
      this.blobs.set(r, new Map());
      this.manifests.set(r, new Map());
      this.tags.set(r, new Map());
    }
  }

  addBlob(repo: string, digest: string, data: Buffer): void {
    this.blobs.get(repo)!.set(digest, data);
    this.goneBlobs.delete(`${repo}@${digest}`);
  }

  addManifest(repo: string, digest: string, body: Buffer, tag?: string): void {
    this.manifests.get(repo)!.set(digest, body);
    const image = imageMediaType(body);
    if (image) this.images.set(digest, image);
    this.goneManifests.delete(`${repo}@${digest}`);
    if (tag !== undefined) {
      this.tags.get(repo)!.set(tag, digest);
      this.goneTags.delete(`${repo}:${tag}`);
    }
  }

  deleteManifest(repo: string, digest: string): void {
    this.manifests.get(repo)!.delete(digest);
    this.goneManifests.add(`${repo}@${digest}`);
    for (const [tag, d] of this.tags.get(repo)!) {
      if (d === digest) this.deleteTag(repo, tag);
    }
  }

  deleteTag(repo: string, tag: string): void {
    this.tags.get(repo)!.delete(tag);
    this.goneTags.add(`${repo}:${tag}`);
  }
}

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

class Fuzzer {
  readonly rng: Prng;
  readonly model = new Model();
  readonly url: string;
  /** Open upload sessions: path (from Location) -> repository and bytes acknowledged so far. */
  readonly sessions = new Map<string, { repo: string; data: Buffer }>();
  requests = 0;
  last = '';
  /** Milliseconds spent per kind of generated manifest (reported, never asserted). */
  readonly timings = new Map<string, number>();

  constructor(url: string, rng: Prng) {
    this.url = url;
    this.rng = rng;
  }

  /** Sends a request and checks the invariants every reply must meet. */
  async send(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    this.requests++;
    this.last = `${method} ${path.slice(0, 200)}${body ? ` (${body.length} bytes)` : ''}`;
    const init: RequestInit = { method, headers, redirect: 'manual' };
    if (body !== undefined) init.body = body;
    const res = await fetch(`${this.url}${path}`, init);
    const reply = { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
    const where = `${this.last} -> ${reply.status} ${reply.body.toString('utf8').slice(0, 300)}`;
    assert.ok(reply.status < 500, `server error: ${where}`);
    assert.equal(reply.headers.get('docker-distribution-api-version'), 'registry/2.0', `API version header: ${where}`);
    if (reply.status >= 400 && method !== 'HEAD' && reply.status !== 304) {
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/, `error Content-Type: ${where}`);
      errorBody({ ...reply, method });
    }
    return reply;
  }

  repo(): string {
    return this.rng.pick(REPOS);
  }

  tag(): string {
    return this.rng.chance(0.97) ? `t${this.rng.int(0, 30)}` : this.rng.pick(['', '-x', 'a'.repeat(129), '..', 'A:B', '%2e%2e', 'x y']);
  }

  knownBlob(repo: string): [string, Buffer] | undefined {
    const entries = [...this.model.blobs.get(repo)!];
    return entries.length ? this.rng.pick(entries) : undefined;
  }

  // ---- manifests --------------------------------------------------------------------------

  validManifest(repo: string): { json: Record<string, unknown>; contentType: string } {
    const rng = this.rng;
    const blobs = [...this.model.blobs.get(repo)!];
    const manifests = [...this.model.manifests.get(repo)!].filter(([d]) => this.model.images.has(d));
    const docker = rng.chance(0.3);
    if (manifests.length > 0 && rng.chance(0.2)) {
      const mediaType = docker ? DOCKER_LIST : OCI_INDEX;
      const children = Array.from({ length: rng.int(1, 4) }, () => rng.pick(manifests));
      return {
        json: {
          schemaVersion: 2, mediaType,
          manifests: children.map(([d, b]) => ({ mediaType: this.model.images.get(d)!, digest: d, size: b.length, platform: { os: 'linux', architecture: rng.pick(['amd64', 'arm64']) } })),
        },
        contentType: mediaType,
      };
    }
    const mediaType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
    const desc = ([d, b]: [string, Buffer], type: string): Record<string, unknown> => ({ mediaType: type, digest: d, size: b.length });
    const config = blobs.length ? rng.pick(blobs) : undefined;
    const json: Record<string, unknown> = {
      schemaVersion: 2, mediaType,
      config: config ? desc(config, 'application/vnd.oci.image.config.v1+json') : { mediaType: 'x', digest: sha256('none'), size: 4 },
      layers: Array.from({ length: rng.int(0, 5) }, () => (blobs.length ? desc(rng.pick(blobs), 'application/vnd.oci.image.layer.v1.tar') : {})),
    };
    if (rng.chance(0.2)) json.annotations = { 'org.example.n': String(rng.int(0, 1e6)) };
    if (!docker && manifests.length > 0 && rng.chance(0.15)) {
      const [d, b] = rng.pick(manifests);
      json.subject = { mediaType: OCI_MANIFEST, digest: d, size: b.length };
      json.artifactType = 'application/vnd.example.sig';
    }
    return { json, contentType: rng.chance(0.8) ? mediaType : rng.pick(CONTENT_TYPES) };
  }

  /** A manifest body, valid or broken in one of several ways. */
  manifestBody(repo: string): { body: Buffer; contentType: string; kind: string } {
    const rng = this.rng;
    const { json, contentType } = this.validManifest(repo);
    const text = JSON.stringify(json);
    const kind = rng.pick(['valid', 'valid', 'valid', 'mutated', 'truncated', 'wrong-type', 'nested', 'huge-array', 'random', 'json-values']);
    switch (kind) {
      case 'mutated': {
        const bytes = Buffer.from(text);
        for (let i = rng.int(1, 6); i > 0; i--) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
        return { body: bytes, contentType, kind };
      }
      case 'truncated':
        return { body: Buffer.from(text).subarray(0, rng.int(0, text.length - 1)), contentType, kind };
      case 'wrong-type':
        return { body: Buffer.from(JSON.stringify(retype(json, rng))), contentType, kind };
      case 'nested': {
        const depth = rng.int(10, 20_000);
        const open = rng.chance(0.5) ? '[' : '{"a":';
        const close = open === '[' ? ']' : '}';
        const field = rng.pick(['layers', 'config', 'annotations', 'manifests', 'subject', 'x']);
        return { body: Buffer.from(text.replace(/}$/, `,"${field}":${open.repeat(depth)}1${close.repeat(depth)}}`)), contentType, kind };
      }
      case 'huge-array': {
        const n = rng.int(500, 5000);
        const layer = rng.chance(0.5) ? { mediaType: 'x', digest: sha256(String(rng.int(0, 1e9))), size: 1 } : rng.pick([1, 'x', null, {}, []]);
        return { body: Buffer.from(JSON.stringify({ ...json, layers: Array.from({ length: n }, () => layer), manifests: rng.chance(0.3) ? Array(n).fill(layer) : undefined })), contentType, kind };
      }
      case 'random':
        return { body: rng.bytes(rng.int(0, 2048)), contentType, kind };
      case 'json-values':
        return { body: Buffer.from(rng.pick(['null', 'true', '0', '""', '[]', '{}', '{"schemaVersion":2}', `{"schemaVersion":2,"mediaType":"${OCI_INDEX}"}`, `{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[]}`])), contentType, kind };
      default:
        return { body: Buffer.from(text), contentType, kind };
    }
  }

  async putManifest(repo = this.repo()): Promise<void> {
    const rng = this.rng;
    const { body, contentType, kind } = this.manifestBody(repo);
    const started = Date.now();
    const byDigest = rng.chance(0.3);
    const correct = sha256(body);
    const reference = byDigest ? rng.pick([correct, correct, correct, sha512(body), sha256('other'), 'sha256:XYZ']) : this.tag();
    const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
    const reply = await this.send('PUT', `/v2/${repo}/manifests/${encodeURIComponent(reference)}`, body, headers);
    this.timings.set(kind, (this.timings.get(kind) ?? 0) + Date.now() - started);
    if (reply.status === 201) {
      const digest = reply.headers.get('docker-content-digest') ?? '';
      assert.ok(digest === correct || digest === sha512(body), `Docker-Content-Digest ${digest} for ${this.last}`);
      this.model.addManifest(repo, digest, body, byDigest ? undefined : reference);
    } else {
      assert.ok(reply.status >= 400, `manifest PUT answered ${reply.status}: ${this.last}`);
    }
  }

  // ---- request sequences ------------------------------------------------------------------

  chunk(): Buffer {
    return this.rng.bytes(this.rng.pick([0, 1, 7, 100, 1000, 4096, this.rng.int(0, 70_000)]));
  }

  session(): [string, { repo: string; data: Buffer }] | undefined {
    const all = [...this.sessions];
    return all.length ? this.rng.pick(all) : undefined;
  }

  async step(): Promise<void> {
    const rng = this.rng;
    const op = rng.pick([
      'start', 'start', 'patch', 'patch', 'patch', 'finish', 'finish', 'status', 'cancel', 'monolithic', 'monolithic',
      'mount', 'getBlob', 'headBlob', 'deleteBlob', 'putManifest', 'putManifest', 'getManifest', 'deleteManifest', 'deleteTag',
      'tags', 'catalog', 'garbage',
    ] as const);
    switch (op) {
      case 'start': {
        const repo = this.repo();
        const reply = await this.send('POST', `/v2/${repo}/blobs/uploads/`);
        assert.equal(reply.status, 202, this.last);
        this.sessions.set(locationPath(reply.headers.get('location')), { repo, data: Buffer.alloc(0) });
        return;
      }
      case 'patch': {
        const s = this.session();
        if (!s) return;
        const [path, state] = s;
        const data = this.chunk();
        const mode = rng.pick(['range', 'range', 'plain', 'bad-start', 'bad-length']);
        const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
        const at = state.data.length;
        if (mode === 'range') headers['Content-Range'] = `${at}-${at + data.length - 1}`;
        if (mode === 'bad-start') headers['Content-Range'] = `${at + rng.pick([-1, 1, 5])}-${at + data.length + 3}`;
        if (mode === 'bad-length') headers['Content-Range'] = `${at}-${at + data.length + rng.int(0, 9)}`;
        const reply = await this.send('PATCH', path, data, headers);
        const ok = mode === 'plain' || (mode === 'range' && data.length > 0);
        assert.equal(reply.status, ok ? 202 : 416, `PATCH (${mode}): ${this.last} -> ${reply.body.toString()}`);
        if (ok) {
          state.data = Buffer.concat([state.data, data]);
          assert.equal(reply.headers.get('range'), `0-${Math.max(state.data.length - 1, 0)}`, `Range after ${this.last}`);
        }
        return;
      }
      case 'finish': {
        const s = this.session();
        if (!s) return;
        const [path, state] = s;
        const last = rng.chance(0.4) ? this.chunk() : undefined;
        const full = last ? Buffer.concat([state.data, last]) : state.data;
        const digest = rng.pick([sha256(full), sha256(full), sha512(full), sha256(Buffer.concat([full, Buffer.from('x')]))]);
        const reply = await this.send('PUT', `${path}${path.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`, last, { 'Content-Type': 'application/octet-stream' });
        const right = digest === sha256(full) || digest === sha512(full);
        if (reply.status === 201) {
          assert.ok(right, `PUT accepted a wrong digest: ${this.last}`);
          this.model.addBlob(state.repo, digest, full);
          this.sessions.delete(path);
        } else {
          assert.ok(!right, `PUT with the right digest refused: ${this.last} -> ${reply.status} ${reply.body.toString()}`);
        }
        return;
      }
      case 'status': {
        const s = this.session();
        if (!s) return;
        const reply = await this.send('GET', s[0]);
        assert.equal(reply.status, 204, this.last);
        assert.equal(reply.headers.get('range'), `0-${Math.max(s[1].data.length - 1, 0)}`, `session size for ${this.last}`);
        return;
      }
      case 'cancel': {
        const s = this.session();
        if (!s) return;
        const reply = await this.send('DELETE', s[0]);
        assert.equal(reply.status, 204, this.last);
        this.sessions.delete(s[0]);
        const again = await this.send('GET', s[0]);
        assert.equal(again.status, 404, `a cancelled session is gone: ${this.last}`);
        return;
      }
      case 'monolithic': {
        const repo = this.repo();
        const data = this.chunk();
        const digest = rng.chance(0.8) ? rng.pick([sha256(data), sha512(data)]) : sha256(Buffer.concat([data, Buffer.from('!')]));
        const reply = await this.send('POST', `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, data, { 'Content-Type': 'application/octet-stream' });
        const right = digest === sha256(data) || digest === sha512(data);
        assert.equal(reply.status, right ? 201 : 400, this.last);
        if (right) this.model.addBlob(repo, digest, data);
        return;
      }
      case 'mount': {
        const from = this.repo();
        const to = this.repo();
        const known = this.knownBlob(from);
        const digest = known ? known[0] : sha256(String(rng.int(0, 1e9)));
        const reply = await this.send('POST', `/v2/${to}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${from}`);
        if (reply.status === 201) {
          assert.ok(known || this.model.blobs.get(to)!.has(digest), `mount of an unknown blob: ${this.last}`);
          this.model.addBlob(to, digest, known ? known[1] : this.model.blobs.get(to)!.get(digest)!);
        } else {
          assert.equal(reply.status, 202, this.last);
          assert.ok(!known, `mount of a known blob fell back to a session: ${this.last}`);
          this.sessions.set(locationPath(reply.headers.get('location')), { repo: to, data: Buffer.alloc(0) });
        }
        return;
      }
      case 'getBlob':
      case 'headBlob': {
        const repo = this.repo();
        const known = this.knownBlob(repo);
        const digest = known?.[0] ?? sha256(String(rng.int(0, 1e9)));
        const reply = await this.send(op === 'getBlob' ? 'GET' : 'HEAD', `/v2/${repo}/blobs/${digest}`);
        if (known) {
          assert.equal(reply.status, 200, this.last);
          if (op === 'getBlob') assert.ok(reply.body.equals(known[1]), `blob bytes: ${this.last}`);
        }
        return;
      }
      case 'deleteBlob': {
        const repo = this.repo();
        const known = this.knownBlob(repo);
        if (!known || !rng.chance(0.3)) return;
        const reply = await this.send('DELETE', `/v2/${repo}/blobs/${known[0]}`);
        assert.equal(reply.status, 202, this.last);
        this.model.blobs.get(repo)!.delete(known[0]);
        this.model.goneBlobs.add(`${repo}@${known[0]}`);
        return;
      }
      case 'putManifest':
        await this.putManifest();
        return;
      case 'getManifest': {
        const repo = this.repo();
        const byTag = rng.chance(0.5);
        const tags = [...this.model.tags.get(repo)!];
        const manifests = [...this.model.manifests.get(repo)!];
        if (byTag && tags.length) {
          const [tag, digest] = rng.pick(tags);
          const reply = await this.send('GET', `/v2/${repo}/manifests/${tag}`);
          assert.equal(reply.status, 200, this.last);
          assert.equal(reply.headers.get('docker-content-digest'), digest, this.last);
        } else if (manifests.length) {
          const [digest, body] = rng.pick(manifests);
          const reply = await this.send('GET', `/v2/${repo}/manifests/${digest}`);
          assert.equal(reply.status, 200, this.last);
          assert.ok(reply.body.equals(body), `manifest bytes: ${this.last}`);
        }
        return;
      }
      case 'deleteManifest': {
        const repo = this.repo();
        const manifests = [...this.model.manifests.get(repo)!];
        if (!manifests.length || !rng.chance(0.3)) return;
        const [digest] = rng.pick(manifests);
        const reply = await this.send('DELETE', `/v2/${repo}/manifests/${digest}`);
        assert.equal(reply.status, 202, this.last);
        this.model.deleteManifest(repo, digest);
        return;
      }
      case 'deleteTag': {
        const repo = this.repo();
        const tags = [...this.model.tags.get(repo)!];
        if (!tags.length || !rng.chance(0.3)) return;
        const [tag] = rng.pick(tags);
        const reply = await this.send('DELETE', `/v2/${repo}/manifests/${tag}`);
        assert.equal(reply.status, 202, this.last);
        this.model.deleteTag(repo, tag);
        return;
      }
      case 'tags': {
        const repo = this.repo();
        const reply = await this.send('GET', `/v2/${repo}/tags/list?n=${rng.int(0, 50)}`);
        if (reply.status === 200) {
          const tags = (JSON.parse(reply.body.toString()) as { tags: string[] }).tags;
          assert.ok(Array.isArray(tags), this.last);
        }
        return;
      }
      case 'catalog': {
        const reply = await this.send('GET', `/v2/_catalog?n=${rng.int(1, 10)}`);
        assert.equal(reply.status, 200, this.last);
        return;
      }
      case 'garbage': {
        const parts = ['v2', 'fuzz', 'a', 'blobs', 'uploads', 'manifests', 'tags', 'list', '_catalog', 'referrers', '..', '%2e%2e', '%2F', 'A', '', sha256('g'), 'sha256:', '%00', '~', 'b'.repeat(rng.int(1, 300))];
        const path = `/${Array.from({ length: rng.int(1, 8) }, () => rng.pick(parts)).join('/')}${rng.chance(0.3) ? `?${rng.pick(['digest', 'mount', 'from', 'n', 'last'])}=${rng.pick(parts)}` : ''}`;
        const method = rng.pick(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE']);
        await this.send(method, path, method === 'GET' || method === 'HEAD' ? undefined : rng.bytes(rng.int(0, 300)));
        return;
      }
    }
  }

  /** Pulls back everything the model holds, and checks that nothing deleted is served. */
  async verifyAll(): Promise<number> {
    let checked = 0;
    for (const repo of REPOS) {
      for (const [digest, data] of this.model.blobs.get(repo)!) {
        const reply = await this.send('GET', `/v2/${repo}/blobs/${digest}`);
        assert.equal(reply.status, 200, `acknowledged blob missing: ${this.last}`);
        assert.ok(reply.body.equals(data), `blob bytes differ: ${this.last}`);
        checked++;
      }
      for (const [digest, body] of this.model.manifests.get(repo)!) {
        const reply = await this.send('GET', `/v2/${repo}/manifests/${digest}`);
        assert.equal(reply.status, 200, `acknowledged manifest missing: ${this.last}`);
        assert.ok(reply.body.equals(body), `manifest bytes differ: ${this.last}`);
        checked++;
      }
      for (const [tag, digest] of this.model.tags.get(repo)!) {
        const reply = await this.send('GET', `/v2/${repo}/manifests/${tag}`);
        assert.equal(reply.status, 200, `acknowledged tag missing: ${this.last}`);
        assert.equal(reply.headers.get('docker-content-digest'), digest, `tag moved: ${this.last}`);
        checked++;
      }
      const list = await this.send('GET', `/v2/${repo}/tags/list`);
      const listed = list.status === 200 ? (JSON.parse(list.body.toString()) as { tags: string[] | null }).tags ?? [] : [];
      assert.deepEqual([...listed].sort(), [...this.model.tags.get(repo)!.keys()].sort(), `tags/list of ${repo}`);
    }
    for (const key of this.model.goneManifests) {
      const [repo, digest] = key.split('@') as [string, string];
      const reply = await this.send('GET', `/v2/${repo}/manifests/${digest}`);
      assert.equal(reply.status, 404, `a deleted manifest is served again: ${this.last}`);
    }
    for (const key of this.model.goneBlobs) {
      const [repo, digest] = key.split('@') as [string, string];
      const reply = await this.send('HEAD', `/v2/${repo}/blobs/${digest}`);
      assert.equal(reply.status, 404, `a deleted blob link is served again: ${this.last}`);
    }
    for (const key of this.model.goneTags) {
      const [repo, tag] = key.split(':') as [string, string];
      const reply = await this.send('HEAD', `/v2/${repo}/manifests/${tag}`);
      assert.equal(reply.status, 404, `a deleted tag resolves again: ${this.last}`);
    }
    return checked;
  }
}

/** The media type of an image manifest body (a valid child for an index), or undefined. */
function imageMediaType(body: Buffer): string | undefined {
  try {
    const doc = JSON.parse(body.toString()) as { config?: unknown; mediaType?: unknown };
    if (doc.config === undefined) return undefined;
    return typeof doc.mediaType === 'string' ? doc.mediaType : OCI_MANIFEST;
  } catch {
    return undefined;
  }
}

/** A copy of `value` with some fields replaced by JSON values of another type. */
function retype(value: unknown, rng: Prng): unknown {
  const others = [null, true, 0, -1, 1.5, 2 ** 60, '', 'x', [], {}, [1], { a: 1 }];
  if (Array.isArray(value)) return value.map((v) => (rng.chance(0.2) ? rng.pick(others) : retype(v, rng)));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (rng.chance(0.1)) continue;
      out[k] = rng.chance(0.2) ? rng.pick(others) : retype(v, rng);
    }
    return out;
  }
  return value;
}

describe(`fuzz (seed ${SEED}; replay with BERTH_FUZZ_SEED=${SEED})`, () => {
  let reg: TestRegistry;
  before(async () => { reg = await startTestRegistry({ storage: 'filesystem' }); });
  after(async () => reg.close());

  it(`${MANIFESTS} generated manifests, then ${REQUESTS} random requests, then a pull of everything acknowledged`, { timeout: 600_000 }, async (t) => {
    const fuzz = new Fuzzer(reg.url, new Prng(SEED));
    t.diagnostic(`seed ${SEED} (replay: BERTH_FUZZ_SEED=${SEED})`);
    try {
      // A few blobs per repository, so that generated manifests can be valid.
      for (const repo of REPOS) {
        for (let i = 0; i < 6; i++) {
          const data = fuzz.rng.bytes(fuzz.rng.int(1, 3000));
          const reply = await fuzz.send('POST', `/v2/${repo}/blobs/uploads/?digest=${sha256(data)}`, data);
          assert.equal(reply.status, 201, fuzz.last);
          fuzz.model.addBlob(repo, sha256(data), data);
        }
      }
      for (let i = 0; i < MANIFESTS; i++) await fuzz.putManifest();
      const accepted = [...fuzz.model.manifests.values()].reduce((n, m) => n + m.size, 0);
      t.diagnostic(`manifests accepted: ${accepted} of ${MANIFESTS}; ms per kind: ${JSON.stringify(Object.fromEntries(fuzz.timings))}`);
      const sequenceStart = Date.now();
      for (let i = 0; i < REQUESTS; i++) await fuzz.step();
      t.diagnostic(`request sequence: ${Date.now() - sequenceStart} ms`);
      const checked = await fuzz.verifyAll();
      t.diagnostic(`${fuzz.requests} requests; ${checked} acknowledged objects pulled back and verified`);
      assert.ok(accepted > MANIFESTS / 10 || MANIFESTS < 10, `too few valid manifests were generated (${accepted}) for the model check to mean much`);
    } catch (err) {
      const message = `fuzz failed with BERTH_FUZZ_SEED=${SEED} after ${fuzz.requests} requests (last: ${fuzz.last}): ${(err as Error).message}`;
      throw Object.assign(new Error(message), { cause: err });
    }
  });
});
