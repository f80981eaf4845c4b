// Blob uploads (distribution-spec "push"): monolithic (POST, then one PUT with the whole body)
// and chunked (POST, PATCHes with Content-Range, PUT ?digest=). Bytes are hashed on the way
// out; a stream that does not match its digest is aborted before the final PUT completes.
import { Readable } from 'node:stream';
import { header, type Endpoint } from './http.js';
import { pushScope } from './scopes.js';
import { verifyingStream } from './verifying-stream.js';

/** The registry a blob goes to (a RegistryClient is one). */
interface UploadTarget {
  readonly host: string;
  readonly endpoint: Endpoint;
}

async function startUpload(client: UploadTarget, repo: string, signal?: AbortSignal): Promise<string> {
  const res = await client.endpoint.send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scopes: [pushScope(repo)], expect: [202], ...(signal ? { signal } : {}) });
  await res.body.dump();
  const location = header(res, 'location');
  if (!location) throw new Error(`${client.host} opened an upload without a Location`);
  return new URL(location, client.endpoint.base).toString();
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

export async function pushBlobMonolithic(client: UploadTarget, repo: string, desc: { digest: string; size: number }, source: Readable, signal?: AbortSignal): Promise<void> {
  const location = await startUpload(client, repo, signal);
  const body = source.pipe(verifyingStream(desc.digest, `blob ${desc.digest}`));
  source.on('error', (err) => body.destroy(err));
  const res = await client.endpoint.send({
    method: 'PUT', path: withDigest(location, desc.digest), body,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
    scopes: [pushScope(repo)], expect: [201], ...(signal ? { signal } : {}),
  });
  await res.body.dump();
}

export async function pushBlobChunked(client: UploadTarget, repo: string, desc: { digest: string; size: number }, source: Readable, chunkSize: number, signal?: AbortSignal): Promise<void> {
  let location = await startUpload(client, repo, signal);
  const verified = source.pipe(verifyingStream(desc.digest, `blob ${desc.digest}`));
  source.on('error', (err) => verified.destroy(err));
  let offset = 0;
  let pending: Buffer[] = [];
  let pendingSize = 0;
  const flush = async () => {
    const chunk = Buffer.concat(pending);
    pending = [];
    pendingSize = 0;
    const res = await client.endpoint.send({
      method: 'PATCH', path: location, body: chunk,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}`, 'content-length': String(chunk.length) },
      scopes: [pushScope(repo)], expect: [202], ...(signal ? { signal } : {}),
    });
    await res.body.dump();
    offset += chunk.length;
    const next = header(res, 'location');
    if (next) location = new URL(next, client.endpoint.base).toString();
  };
  // The verifying stream errors at its end on a mismatch, so the final PUT is never sent.
  for await (const data of verified) {
    pending.push(data as Buffer);
    pendingSize += (data as Buffer).length;
    if (pendingSize >= chunkSize) await flush();
  }
  if (pendingSize > 0) await flush();
  const res = await client.endpoint.send({ method: 'PUT', path: withDigest(location, desc.digest), headers: { 'content-length': '0' }, scopes: [pushScope(repo)], expect: [201], ...(signal ? { signal } : {}) });
  await res.body.dump();
}
