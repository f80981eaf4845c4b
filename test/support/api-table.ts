// Table-driven API checks: a row is (request, expected status / headers / error code / body).
// `send` issues a request with fetch, or over raw node:http when the path must reach the
// server exactly as written (fetch normalizes `../` and `%2e%2e`).
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export type Driver = 'memory' | 'filesystem';
export const DRIVERS: readonly Driver[] = ['memory', 'filesystem'];

export interface Call {
  method: string;
  /** Path and query, e.g. `/v2/team/app/manifests/v1`. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Send these parts as a streamed (chunked, no Content-Length) body instead of `body`. */
  stream?: Buffer[];
  /** Send the path byte for byte over node:http instead of fetch. */
  raw?: boolean;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  method: string;
}

/** A header expectation: an exact value, a pattern, or `null` for "absent". */
export type HeaderExpectation = string | RegExp | null;

/** One row of an API table: a request and what must come back. */
export interface Row {
  name: string;
  call: Call;
  expect: Expect;
}

export interface Expect {
  status: number;
  /** The first error code of an OCI error body (implies a JSON error body, or none on HEAD). */
  code?: string;
  headers?: Record<string, HeaderExpectation>;
  /** Exact body bytes. */
  body?: Buffer | string;
  /** Parsed JSON body, compared with deepEqual. */
  json?: unknown;
  /** The body must be empty (always so for HEAD). */
  empty?: boolean;
}

export async function send(base: string, call: Call): Promise<Reply> {
  if (call.raw) return sendRaw(base, call);
  const init: RequestInit = { method: call.method, headers: call.headers ?? {}, redirect: 'manual' };
  if (call.body !== undefined) init.body = call.body;
  if (call.stream !== undefined) {
    const parts = call.stream;
    init.body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(new Uint8Array(p));
        controller.close();
      },
    });
    init.duplex = 'half';
  }
  const res = await fetch(`${base}${call.path}`, init);
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()), method: call.method };
}

function sendRaw(base: string, call: Call): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname, port: url.port, method: call.method, path: call.path,
      headers: { ...(call.headers ?? {}), ...(call.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(call.body)) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
        }
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks), method: call.method });
      });
    });
    req.on('error', reject);
    req.end(call.body);
  });
}

interface ErrorBody {
  errors: { code: string; message: string; detail?: unknown }[];
}

/** Parses and shape-checks an OCI error body. */
export function errorBody(reply: Reply): ErrorBody {
  const text = reply.body.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    assert.fail(`expected a JSON error body, got ${JSON.stringify(text.slice(0, 200))}`);
  }
  assert.ok(typeof doc === 'object' && doc !== null && Array.isArray((doc as ErrorBody).errors), `not an OCI error body: ${text}`);
  const errors = (doc as ErrorBody).errors;
  assert.ok(errors.length > 0, 'error body lists no errors');
  for (const e of errors) {
    assert.equal(typeof e.code, 'string', `error code not a string: ${text}`);
    assert.equal(typeof e.message, 'string', `error message not a string: ${text}`);
  }
  return doc as ErrorBody;
}

/** Checks a reply against a row's expectation; every reply must carry the API version header. */
export function expectReply(reply: Reply, expect: Expect, label = ''): void {
  const where = `${label ? `${label}: ` : ''}${reply.method} -> ${reply.status} ${reply.body.toString('utf8').slice(0, 300)}`;
  assert.equal(reply.status, expect.status, `status (${where})`);
  assert.equal(reply.headers.get('docker-distribution-api-version'), 'registry/2.0', `API version header (${where})`);
  for (const [name, want] of Object.entries(expect.headers ?? {})) {
    const got = reply.headers.get(name);
    if (want === null) assert.equal(got, null, `header ${name} must be absent (${where})`);
    else if (typeof want === 'string') assert.equal(got, want, `header ${name} (${where})`);
    else assert.match(got ?? '', want, `header ${name} (${where})`);
  }
  if (reply.method === 'HEAD' || expect.empty) {
    assert.equal(reply.body.length, 0, `body must be empty (${where})`);
  }
  if (expect.code !== undefined && reply.method !== 'HEAD') {
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/, `error Content-Type (${where})`);
    assert.equal(errorBody(reply).errors[0]?.code, expect.code, `error code (${where})`);
  }
  if (expect.body !== undefined) assert.deepEqual(reply.body, Buffer.from(expect.body), `body bytes (${where})`);
  if (expect.json !== undefined) assert.deepEqual(JSON.parse(reply.body.toString('utf8')), expect.json, `JSON body (${where})`);
}

/** Sends a row's request and checks the reply; returns the reply for further checks. */
export async function check(base: string, call: Call, expect: Expect, label = ''): Promise<Reply> {
  const reply = await send(base, call);
  expectReply(reply, expect, label || `${call.method} ${call.path}`);
  return reply;
}

/** Every regular file under `root`, relative, sorted (empty directories do not count). */
export async function filesUnder(root: string): Promise<string[]> {
  return entriesUnder(root, 'file');
}

/** Every directory under `root`, relative, sorted. */
export async function dirsUnder(root: string): Promise<string[]> {
  return entriesUnder(root, 'dir');
}

async function entriesUnder(root: string, kind: 'file' | 'dir'): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e);
      const r = rel ? `${rel}/${e}` : e;
      const isDir = (await stat(full)).isDirectory();
      if (isDir === (kind === 'dir')) out.push(r);
      if (isDir) await walk(full, r);
    }
  }
  await walk(root, '');
  return out.sort();
}

/** Distribution's on-disk path of a blob's data under a filesystem root. */
export function blobDataPath(root: string, digest: string): string {
  const [algorithm = '', hex = ''] = digest.split(':');
  return join(root, 'docker/registry/v2/blobs', algorithm, hex.slice(0, 2), hex, 'data');
}

export const UNKNOWN_DIGEST = `sha256:${'0'.repeat(64)}`;

/** A well-formed upload id that no session has. */
export const UNKNOWN_UPLOAD = '00000000-0000-4000-8000-000000000000';

/** The upload path from a Location header (absolute or relative). */
export function locationPath(location: string | null): string {
  assert.ok(location, 'Location header missing');
  const u = new URL(location, 'http://placeholder');
  return `${u.pathname}${u.search}`;
}

/** One step of a multi-request scenario; calls and expectations may use what earlier steps saved. */
export interface Step<S> {
  name: string;
  call: Call | ((s: S) => Call);
  expect: Expect | ((s: S) => Expect);
  then?: (reply: Reply, s: S) => void | Promise<void>;
}

export async function runSteps<S>(base: string, state: S, steps: Step<S>[]): Promise<void> {
  for (const step of steps) {
    const call = typeof step.call === 'function' ? step.call(state) : step.call;
    const expect = typeof step.expect === 'function' ? step.expect(state) : step.expect;
    const reply = await check(base, call, expect, step.name);
    await step.then?.(reply, state);
  }
}
