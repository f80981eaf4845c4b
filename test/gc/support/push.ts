// Spec pushes any registry accepts, Distribution 2.8 included (it answers a one-request POST
// with 202): POST for a session, then PUT ?digest= with the whole body.
import type { Blob, Manifest } from '../../support/oci-fixtures.js';

export async function pushBlobTwoStep(base: string, name: string, b: Blob): Promise<void> {
  const post = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  await post.arrayBuffer();
  if (post.status !== 202) throw new Error(`start upload: ${post.status}`);
  const location = new URL(post.headers.get('location')!, base);
  location.searchParams.set('digest', b.digest);
  const put = await fetch(location, { method: 'PUT', body: b.data, headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`push blob ${b.digest}: ${put.status} ${await put.text()}`);
}

export async function pushManifestTo(base: string, name: string, reference: string, m: Manifest): Promise<void> {
  const res = await fetch(`${base}/v2/${name}/manifests/${reference}`, { method: 'PUT', body: m.body, headers: { 'Content-Type': m.mediaType } });
  if (res.status !== 201) throw new Error(`push manifest ${name}:${reference}: ${res.status} ${await res.text()}`);
}

export async function pushImageTwoStep(base: string, name: string, tag: string, config: Blob, layers: Blob[], m: Manifest): Promise<void> {
  for (const b of [config, ...layers]) await pushBlobTwoStep(base, name, b);
  await pushManifestTo(base, name, tag, m);
}
