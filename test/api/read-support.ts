// Shared plumbing of the read API tests: answers validated against the OpenAPI document the
// server serves (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses), and JSON requests.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { OPENAPI } from '../../src/http/read-api/openapi.js';
import { blob, imageManifest, type Blob, type Manifest } from '../support/oci-fixtures.js';

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ $id: 'berth-read-api', components: OPENAPI.components } as unknown as object);

/** The compiled validator of a component schema (undefined when the document lacks it). */
export function validatorFor(schema: string) {
  return ajv.getSchema(`berth-read-api#/components/schemas/${schema}`);
}

/** Asserts `body` is a `schema` (a component of the OpenAPI document) and returns it typed. */
export function conforming<T>(schema: string, body: unknown): T {
  const validate = validatorFor(schema);
  assert.ok(validate, `no schema ${schema}`);
  assert.ok(validate(body), `answer is not a ${schema}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
  return body as T;
}

export interface JsonAnswer { status: number; body: unknown; headers: Headers }

export async function getJson(url: string, authorization?: string): Promise<JsonAnswer> {
  const res = await fetch(url, { headers: authorization ? { Authorization: authorization } : {} });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) as unknown : undefined };
}

/** GETs `url` expecting 200 and a `schema`. */
export async function read<T>(url: string, schema: string, authorization?: string): Promise<T> {
  const answer = await getJson(url, authorization);
  assert.equal(answer.status, 200, `${url}: ${JSON.stringify(answer.body)}`);
  return conforming<T>(schema, answer.body);
}

/** Asserts an OCI-style error answer with `code`. */
export function assertError(answer: JsonAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  const body = conforming<{ errors: { code: string }[] }>('Errors', answer.body);
  assert.equal(body.errors[0]?.code, code);
}

/** Pushes blobs then a manifest over the registry API; returns the manifest PUT status. */
export async function push(base: string, name: string, reference: string, manifest: Manifest, blobs: Blob[], authorization?: string): Promise<number> {
  const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
  for (const b of blobs) {
    const res = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.data, headers: { ...headers, 'Content-Type': 'application/octet-stream' } });
    await res.arrayBuffer();
    assert.equal(res.status, 201, `blob upload to ${name}`);
  }
  const res = await fetch(`${base}/v2/${name}/manifests/${reference}`, { method: 'PUT', body: manifest.body, headers: { ...headers, 'Content-Type': manifest.mediaType } });
  await res.arrayBuffer();
  return res.status;
}

/** A small image of `layerBytes` random bytes; its config names a platform. */
export function smallImage(layerBytes = 512, platform = { os: 'linux', architecture: 'amd64' }): { manifest: Manifest; blobs: Blob[] } {
  const config = blob(JSON.stringify({ ...platform, created: new Date(0).toISOString(), nonce: Math.random() }));
  const layer = blob(randomBytes(layerBytes));
  return { manifest: imageManifest(config, [layer]), blobs: [config, layer] };
}

/** Every page of a paged read API answer (`{items, next}`), following `next`. */
export async function allPages<T>(url: string, schema: string, authorization?: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: T[]; next: string | null } = await read(`${url}${url.includes('?') ? '&' : '?'}${cursor ? `cursor=${encodeURIComponent(cursor)}` : ''}`, schema, authorization);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}
